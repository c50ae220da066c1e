from xstilts.logs import log_to
from xstilts.score import deltas

log_to(snakemake.log[0])
p = snakemake.params
deltas(snakemake.input, snakemake.output[0], p.languages, p.arm_kinds, p.baseline, p.resamples, p.seed)
