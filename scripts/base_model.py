from xstilts.hub import download_model
from xstilts.logs import log_to
from xstilts.provenance import write_provenance

log_to(snakemake.log[0])
download_model(snakemake.params.hf_id, snakemake.output[0], revision=snakemake.params.revision)
# the file manifest lets every job that starts from this model record its checksum without rehashing it
write_provenance(snakemake.output[0], {"hf_id": snakemake.params.hf_id, "revision": snakemake.params.revision},
                 rule=snakemake.rule)
