from pathlib import Path

from xstilts.download import fetch
from xstilts.logs import log_to
from xstilts.tasks import SOURCES

log_to(snakemake.log[0])
mirror = snakemake.params.mirror
fetch(SOURCES[snakemake.wildcards.source], Path(snakemake.output[0]), Path(mirror) if mirror else None)
