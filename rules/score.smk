# Scores identical to XTREME's evaluate.py: one file per language and a task summary per run and task,
# then one long-form CSV of everything.


rule score:
    input:
        predictions=f"results/predictions/{RUN}/{{task}}",
        gold="results/gold/{task}",
    output:
        directory(f"results/scores/{RUN}/{{task}}"),
    params:
        languages=lambda wc: GRID.languages(wc.task),
    conda:
        "../envs/xstilts.yaml"
    log:
        f"logs/score/{RUN}/{{task}}.log",
    script:
        "../scripts/score.py"


rule aggregate:
    input:
        all_scores(),
    output:
        "results/scores.csv",
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/aggregate/scores.log",
    localrule: True
    script:
        "../scripts/aggregate.py"
