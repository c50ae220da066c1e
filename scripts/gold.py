from xstilts.logs import log_to
from xstilts.predict import write_gold

log_to(snakemake.log[0])
inputs = {lang: snakemake.input[lang] for lang in snakemake.params.languages}
write_gold(snakemake.wildcards.task, inputs, snakemake.output[0], snakemake.rule)
