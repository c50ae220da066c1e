# Raw sources -> one normalized JSONL per (task, language, split).


rule prepare:
    input:
        unpack(prepare_inputs),
    output:
        "data/prepared/{task}/{lang}/{split}.jsonl",
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/prepare/{task}/{lang}/{split}.log",
    script:
        "../scripts/prepare.py"
