from xstilts.logs import log_to
from xstilts.prepare import prepare

log_to(snakemake.log[0])
raw = {name: path for name, path in snakemake.input.items() if name != "code"}
w = snakemake.wildcards
prepare(w.task, w.lang, w.split, raw, snakemake.output[0])
