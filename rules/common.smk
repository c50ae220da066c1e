# Path grammar and wildcard glue. Logic lives in the xstilts package.
import json
import re
import sys

from snakemake.utils import validate
from xstilts.config import BASELINE_ARM, check_config
from xstilts.tasks import SOURCES, TASKS, get_task

validate(config, "config.schema.yaml")
GRID = check_config(config)

RUN = "{model}/{arm}/seed{seed}"


def _alternatives(names):
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


wildcard_constraints:
    model=_alternatives(config["models"]),
    arm=_alternatives(config["arms"]),
    seed=r"\d+",
    task=_alternatives(TASKS),
    lang=r"[a-z]{2,3}",
    split=r"train|dev|test",
    source=_alternatives(SOURCES),


def raw_path(source):
    return f"data/raw/{source.name}/{source.filename}"


def prepared(task, lang, split):
    return f"data/prepared/{task}/{lang}/{split}.jsonl"


def task_code(*tasks):
    """The task modules' source files, as inputs: editing one task's file reruns only that task's jobs."""
    return sorted({sys.modules[get_task(t).read.__module__].__file__ for t in tasks})


def base_model(model):
    return config["models"][model].get("path") or f"models/base/{model}"


def init_model(wildcards):
    """The encoder a run starts its target work from: the base model, or its intermediate-trained copy."""
    if wildcards.arm == BASELINE_ARM:
        return base_model(wildcards.model)
    return f"models/intermediate/{wildcards.model}/{wildcards.arm}/seed{wildcards.seed}"


def prediction_model(wildcards):
    if get_task(wildcards.task).finetuned:
        return f"models/finetuned/{wildcards.model}/{wildcards.arm}/seed{wildcards.seed}/{wildcards.task}"
    return init_model(wildcards)


def test_inputs(wildcards):
    return {lang: prepared(wildcards.task, lang, "test") for lang in GRID.languages(wildcards.task)}


def runs():
    return [dict(model=m, arm=a, seed=s) for m in GRID.models for a in GRID.arms for s in GRID.seeds]


def all_prepared():
    files = {prepared(t, lang, "test") for t in GRID.targets for lang in GRID.languages(t)}
    files |= {prepared(get_task(t).train_task, "en", "train") for t in GRID.finetuned_targets()}
    files |= {prepared(t, "en", "train") for a in GRID.arms for t in GRID.arm_tasks(a)}
    return sorted(files)


def all_intermediate_models():
    return [f"models/intermediate/{r['model']}/{r['arm']}/seed{r['seed']}" for r in runs() if r["arm"] != BASELINE_ARM]


def all_predictions():
    return [f"results/predictions/{r['model']}/{r['arm']}/seed{r['seed']}/{t}" for r in runs() for t in GRID.targets]


def all_scores():
    return [f"results/scores/{r['model']}/{r['arm']}/seed{r['seed']}/{t}" for r in runs() for t in GRID.targets]
