# Intermediate-task training: one model per (model, arm, seed), started from the base model.


rule intermediate:
    input:
        model=lambda wc: base_model(wc.model),
        data=lambda wc: [prepared(t, "en", "train") for t in GRID.arm_tasks(wc.arm)],
        code=lambda wc: task_code(*GRID.arm_tasks(wc.arm)),
    output:
        directory("models/intermediate/{model}/{arm}/seed{seed}"),
    wildcard_constraints:
        arm=_alternatives(a for a in config["arms"] if a != BASELINE_ARM),
    params:
        launcher=lambda wc: launcher(config["models"][wc.model]),
        stop_margin=lambda wc: stop_margin_option(config["models"][wc.model]),
        config=lambda wc: json.dumps(GRID.arm_train_config(wc.model, wc.arm, int(wc.seed)), sort_keys=True),
        data=lambda wc: " ".join(f"{t}={prepared(t, 'en', 'train')}" for t in GRID.arm_tasks(wc.arm)),
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
