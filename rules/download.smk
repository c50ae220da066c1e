# Raw sources, fetched once with a pinned checksum (or taken from a configured mirror).


rule download:
    output:
        "data/raw/{source}/{filename}",
    params:
        # url and checksum as params, so a changed pin re-downloads
        url=lambda wc: SOURCES[wc.source].url,
        sha256=lambda wc: SOURCES[wc.source].sha256,
        max_bytes=lambda wc: SOURCES[wc.source].max_bytes,  # a prefix of the file (CC-100), or None for all of it
        mirror=config["download"]["mirror"],
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/download/{source}/{filename}.log",
    localrule: True  # compute nodes often have no internet
    retries: 2
    script:
        "../scripts/download.py"


rule base_model:
    output:
        directory("models/base/{model}"),
    params:
        hf_id=lambda wc: config["models"][wc.model]["hf_id"],
        revision=lambda wc: config["models"][wc.model].get("revision"),
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/base_model/{model}.log",
    localrule: True
    script:
        "../scripts/base_model.py"
