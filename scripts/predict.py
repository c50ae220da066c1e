from xstilts.logs import log_to
from xstilts.predict import predict

log_to(snakemake.log[0])
inputs = {lang: snakemake.input[lang] for lang in snakemake.params.languages}
predict(snakemake.input.model, snakemake.wildcards.task, inputs, snakemake.output[0], snakemake.params.settings,
        snakemake.rule)
