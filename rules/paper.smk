# The paper's tables (LaTeX for paper/main.tex, HTML for the Snakemake report) and per-language delta heat maps.
# The heat maps' paths: DELTA_FIGURE and delta_figures() in common.smk.

rule xtreme_table:
    input:
        scores="results/scores.csv",
        deltas="results/deltas.csv",
    output:
        tex="paper/tables/xtreme.tex",
        html=report("paper/tables/xtreme.html", caption="../report/xtreme_table.rst", category="Tables"),
    params:
        models=GRID.models,
        arms=GRID.arms,
        targets=GRID.targets,
        headers={t: get_task(t).display for t in GRID.targets},
        baseline=BASELINE_ARM,
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/xtreme_table/xtreme.log",
    localrule: True
    script:
        "../scripts/xtreme_table.py"


rule research_table:
    input:
        scores="results/scores.csv",
        deltas="results/deltas.csv",
    output:
        tex="paper/tables/research_question.tex",
        html=report("paper/tables/research_question.html", caption="../report/research_question.rst",
                    category="Tables"),
    params:
        models=GRID.models,
        arms=GRID.arms,
        arm_kinds={a: GRID.arm_kind(a) for a in GRID.arms},
        targets=GRID.targets,
        headers={t: get_task(t).display for t in GRID.targets},
        baseline=BASELINE_ARM,
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/research_table/research_question.log",
    localrule: True
    script:
        "../scripts/research_table.py"


rule delta_heatmap:
    input:
        "results/deltas.csv",
    output:
        pdf=f"{DELTA_FIGURE}.pdf",
        png=report(f"{DELTA_FIGURE}.png", caption="../report/delta_heatmap.rst", category="Per-language deltas",
                   subcategory="{model}", labels={"model": "{model}", "arm": "{arm}"}),
    params:
        targets=GRID.targets,
        languages={t: GRID.languages(t) for t in GRID.targets},
        headers={t: get_task(t).display for t in GRID.targets},
        reference=BASELINE_ARM,
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/delta_heatmap/{model}-{arm}.log",
    localrule: True
    script:
        "../scripts/delta_heatmap.py"


rule delta_figures_tex:
    input:
        list(delta_figures("pdf").values()),
    output:
        "paper/figures/deltas.tex",
    params:
        # (model, arm, the PDF's path as main.tex in paper/ includes it)
        figures=[(m, a, path.removeprefix("paper/")) for (m, a), path in delta_figures("pdf").items()],
        reference=BASELINE_ARM,
    conda:
        "../envs/xstilts.yaml"
    log:
        "logs/delta_figures_tex/deltas.log",
    localrule: True
    script:
        "../scripts/delta_figures_tex.py"
