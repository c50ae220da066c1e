# LaTeX tables for paper/main.tex.


rule xtreme_table:
    input:
        "results/scores.csv",
    output:
        "paper/tables/xtreme.tex",
    params:
        models=GRID.models,
        arms=GRID.arms,
        targets=GRID.targets,
        headers={t: get_task(t).display for t in GRID.targets},
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/xtreme_table/xtreme.log",
    localrule: True
    script:
        "../scripts/xtreme_table.py"
