# Raw sources -> one normalized JSONL per (task, language, split).


def prepare_inputs(wildcards):
    task = get_task(wildcards.task)
    inputs = {s.name: raw_path(s) for s in task.sources_for(wildcards.lang, wildcards.split)}
    inputs["code"] = task_code(wildcards.task)
    return inputs


rule prepare:
    input:
        unpack(prepare_inputs),
    output:
        "data/prepared/{task}/{lang}/{split}.jsonl",
    log:
        "logs/prepare/{task}/{lang}/{split}.log",
    script:
        "../scripts/prepare.py"
