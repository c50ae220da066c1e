# X-STILTs on XTREME. Run on a Slurm cluster:  snakemake --profile profiles/slurm
# The embedded CPU demo:                       make demo   (snakemake --profile profiles/demo)
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/download.smk"
include: "rules/prepare.smk"
include: "rules/translate.smk"
include: "rules/intermediate.smk"
include: "rules/finetune.smk"
include: "rules/predict.smk"
include: "rules/score.smk"
include: "rules/paper.smk"


onstart:
    check_slurm_settings()


rule all:
    default_target: True
    input:
        "paper/tables/xtreme.tex",
        "paper/tables/research_question.tex",
        "paper/figures/deltas.tex",


rule data:
    input:
        all_prepared(),


rule translations:
    input:
        all_translations(),


rule intermediate_models:
    input:
        all_intermediate_models(),


rule predictions:
    input:
        all_predictions(),
