from xstilts.logs import log_to
from xstilts.score import score_run_task

log_to(snakemake.log[0])
w = snakemake.wildcards
run = {"model": w.model, "arm": w.arm, "seed": int(w.seed)}
score_run_task(w.task, snakemake.params.languages, snakemake.input.predictions, snakemake.input.gold,
               snakemake.output[0], run, rule=snakemake.rule)
