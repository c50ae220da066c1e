from pathlib import Path

from xstilts.figures import figures_tex
from xstilts.logs import log_to

log_to(snakemake.log[0])
Path(snakemake.output[0]).write_text(figures_tex(snakemake.params.figures, snakemake.params.reference))
