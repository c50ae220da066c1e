from xstilts.hub import download_model
from xstilts.logs import log_to

log_to(snakemake.log[0])
download_model(snakemake.params.hf_id, snakemake.output[0], revision=snakemake.params.revision)
