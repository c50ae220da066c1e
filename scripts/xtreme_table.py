from pathlib import Path

from xstilts.logs import log_to
from xstilts.tables import read_scores, xtreme_table

log_to(snakemake.log[0])
p = snakemake.params
table = xtreme_table(read_scores(snakemake.input[0]), p.models, p.arms, p.targets, p.headers)
Path(snakemake.output[0]).write_text(table)
