# Scores identical to XTREME's evaluate.py: one file per language (plus its per-example statistics) and a task
# summary per run and task, then one long-form CSV of everything and the paired-bootstrap deltas between arms.


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


rule deltas:
    input:
        all_scores(),
    output:
        report("results/deltas.csv", caption="../report/deltas.rst", category="Data"),
    params:
        languages={t: GRID.languages(t) for t in GRID.targets},
        arm_kinds={a: GRID.arm_kind(a) for a in GRID.arms},
        baseline=BASELINE_ARM,
        resamples=1000,
        seed=0,
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/deltas/deltas.log",
    localrule: True
    script:
        "../scripts/deltas.py"
