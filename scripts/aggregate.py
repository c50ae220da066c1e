from xstilts.logs import log_to
from xstilts.score import aggregate

log_to(snakemake.log[0])
aggregate(snakemake.input, snakemake.output[0])
