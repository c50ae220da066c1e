# Intermediate-task training: one model per (model, arm, seed), started from the base model, on the arm's
# datasets (English releases, native non-English data, translated shards, an MLM corpus) mixed by its sampling rule.


rule intermediate:
    input:
        unpack(arm_inputs),
    output:
        directory("models/intermediate/{model}/{arm}/seed{seed}"),
    wildcard_constraints:
        arm=_alternatives(a for a in config["arms"] if a != BASELINE_ARM),
    params:
        launcher=lambda wc: launcher(config["models"][wc.model]),
        stop_margin=lambda wc: stop_margin_option(config["models"][wc.model]),
        config=lambda wc: json.dumps(GRID.arm_train_config(wc.model, wc.arm, int(wc.seed)), sort_keys=True),
        data=lambda wc: " ".join(f"{name}={f}" for name, files in arm_data(wc.arm).items() for f in files),
        checkpoints=lambda wc: f"checkpoints/intermediate/{wc.model}/{wc.arm}/seed{wc.seed}",
    resources:
        **train_resources_of_rule(),
    retries: 3  # a run stopped at its time limit exits 75 after a checkpoint; the retry resumes it
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/intermediate/{model}/{arm}/seed{seed}.log",
    benchmark:
        "benchmarks/intermediate/{model}/{arm}/seed{seed}.tsv"
    shell:
        "{params.launcher} python -m xstilts train --init {input.model} --data {params.data} --output {output}"
        " --checkpoints {params.checkpoints} --config {params.config:q}"
        " --time-limit {resources.runtime}{params.stop_margin} > {log} 2>&1"
