from xstilts.figures import delta_heatmap
from xstilts.logs import log_to
from xstilts.tables import read_deltas

log_to(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards
delta_heatmap(read_deltas(snakemake.input[0]), w.model, w.arm, p.reference, p.targets, p.languages, p.headers,
              [snakemake.output.pdf, snakemake.output.png])
