# Per-language test predictions in the official XTREME layout, and gold files in the same layout.


rule predict:
    input:
        unpack(predict_inputs),
    output:
        directory("results/predictions/{model}/{arm}/seed{seed}/{task}"),
    params:
        languages=lambda wc: GRID.languages(wc.task),
        settings=lambda wc: GRID.predict_settings(wc.model, wc.task),
    resources:
        **predict_resources_of_rule(),
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/predict/{model}/{arm}/seed{seed}/{task}.log",
    benchmark:
        "benchmarks/predict/{model}/{arm}/seed{seed}/{task}.tsv"
    script:
        "../scripts/predict.py"


rule gold:
    input:
        unpack(test_inputs),
        code=lambda wc: task_code(wc.task),
    output:
        directory("results/gold/{task}"),
    params:
        languages=lambda wc: GRID.languages(wc.task),
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/gold/{task}.log",
    script:
        "../scripts/gold.py"
