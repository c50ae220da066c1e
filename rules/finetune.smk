# Target fine-tuning on the English training data of each fine-tuned target task.


rule finetune:
    input:
        model=init_model,
        data=lambda wc: prepared(get_task(wc.task).train_task, "en", "train"),
        code=lambda wc: task_code(wc.task, get_task(wc.task).train_task),
    output:
        directory("models/finetuned/{model}/{arm}/seed{seed}/{task}"),
    params:
        launcher=lambda wc: launcher(config["models"][wc.model]),
        stop_margin=lambda wc: stop_margin_option(config["models"][wc.model]),
        config=lambda wc: json.dumps(GRID.target_train_config(wc.model, wc.task, int(wc.seed)), sort_keys=True),
        data=lambda wc: f"{get_task(wc.task).train_task}={prepared(get_task(wc.task).train_task, 'en', 'train')}",
        checkpoints=lambda wc: f"checkpoints/finetuned/{wc.model}/{wc.arm}/seed{wc.seed}/{wc.task}",
    resources:
        **train_resources_of_rule(),
    retries: 3  # a run stopped at its time limit exits 75 after a checkpoint; the retry resumes it
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/finetune/{model}/{arm}/seed{seed}/{task}.log",
    benchmark:
        "benchmarks/finetune/{model}/{arm}/seed{seed}/{task}.tsv"
    shell:
        "{params.launcher} python -m xstilts train --init {input.model} --data {params.data} --output {output}"
        " --checkpoints {params.checkpoints} --config {params.config:q}"
        " --time-limit {resources.runtime}{params.stop_margin} > {log} 2>&1"
