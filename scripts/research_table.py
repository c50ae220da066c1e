from pathlib import Path

from xstilts.logs import log_to
from xstilts.tables import build_research_table, read_deltas, read_scores, render_html, render_latex

log_to(snakemake.log[0])
p = snakemake.params
table = build_research_table(read_scores(snakemake.input.scores), read_deltas(snakemake.input.deltas), p.models,
                             p.arms, p.arm_kinds, p.targets, p.headers, baseline=p.baseline)
Path(snakemake.output.tex).write_text(render_latex(table))
Path(snakemake.output.html).write_text(render_html(table, "Multilingual vs English-only intermediate arms"))
