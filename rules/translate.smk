# Machine translation of English training sets for the translated arms: one job per (MT model, task, language,
# shard of translation.shard_size English examples), then a quality report per (MT model, task, language) that
# gates training on it. With backend ctranslate2 (the default) the model is converted once, and every job
# decodes with the conversion (the tokenizer still comes from the transformers copy).


rule mt_model:
    output:
        directory("models/mt/{mt}"),
    params:
        hf_id=lambda wc: config["translation"]["models"][wc.mt]["hf_id"],
        revision=lambda wc: config["translation"]["models"][wc.mt].get("revision"),
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/mt_model/{mt}.log",
    localrule: True
    script:
        "../scripts/base_model.py"


rule mt_model_ctranslate2:
    input:
        lambda wc: mt_model_dir(wc.mt),
    output:
        directory("models/mt-ctranslate2/{mt}"),
    params:
        family=lambda wc: config["translation"]["models"][wc.mt]["family"],
    resources:
        **convert_resources_of_rule(),
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/mt_model_ctranslate2/{mt}.log",
    benchmark:
        "benchmarks/mt_model_ctranslate2/{mt}.tsv"
    shell:
        "python -m xstilts convert-mt --model {input} --family {params.family} --output {output} > {log} 2>&1"


rule translate:
    input:
        english=lambda wc: prepared(wc.task, "en", "train"),
        model=lambda wc: mt_model_dir(wc.mt),
        converted=lambda wc: converted_mt_model(wc.mt),
        code=lambda wc: task_code(wc.task) + translation_code(),
    output:
        data="data/translated/{mt}/{task}/{lang}/shard{shard}.jsonl",
        stats="data/translated/{mt}/{task}/{lang}/shard{shard}.stats.json",
    params:
        settings=lambda wc: json.dumps(GRID.translation_settings(wc.mt), sort_keys=True),
        checkpoints="checkpoints/translate/{mt}/{task}/{lang}/shard{shard}",
        converted=converted_option,
    resources:
        **translate_resources_of_rule(),
        mt_batch_size=config.get("translation", {}).get("batch_size", 64),  # speed only: not a rerun trigger
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/translate/{mt}/{task}/{lang}/shard{shard}.log",
    benchmark:
        "benchmarks/translate/{mt}/{task}/{lang}/shard{shard}.tsv"
    shell:
        "python -m xstilts translate --task {wildcards.task} --lang {wildcards.lang} --shard {wildcards.shard}"
        " --input {input.english} --model {input.model} {params.converted} --settings {params.settings:q}"
        " --batch-size {resources.mt_batch_size} --output {output.data} --stats {output.stats}"
        " --checkpoints {params.checkpoints} > {log} 2>&1"


rule translation_quality:
    input:
        shards=lambda wc: translation_files(wc, "jsonl"),
        stats=lambda wc: translation_files(wc, "stats.json"),
        model=lambda wc: mt_model_dir(wc.mt),
        converted=lambda wc: converted_mt_model(wc.mt),
    output:
        "data/translated/{mt}/{task}/{lang}/quality.json",
    params:
        settings=lambda wc: json.dumps(GRID.translation_settings(wc.mt), sort_keys=True),
        quality=lambda wc: json.dumps(GRID.translation_quality(), sort_keys=True),
        converted=converted_option,
    resources:
        **translate_resources_of_rule(),
        mt_batch_size=config.get("translation", {}).get("batch_size", 64),
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/translation_quality/{mt}/{task}/{lang}.log",
    shell:
        "python -m xstilts translation-quality --task {wildcards.task} --lang {wildcards.lang}"
        " --shards {input.shards} --stats {input.stats} --model {input.model} {params.converted}"
        " --settings {params.settings:q}"
        " --quality {params.quality:q} --batch-size {resources.mt_batch_size} --report {output} > {log} 2>&1"
