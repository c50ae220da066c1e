# Path grammar and wildcard glue. Logic lives in the xstilts package.
import json
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate
from xstilts.config import BASELINE_ARM, check_config, check_config_files
from xstilts.resources import (convert_resources, launcher, predict_resources, stop_margin_option, train_resources,
                               translate_resources)
from xstilts.tasks import SOURCES, TASKS, get_task

check_config_files(workflow.configfiles)
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
    mt=_alternatives(config.get("translation", {}).get("models", {}) or ["-"]),
    shard=r"\d+",


def raw_path(source):
    return f"data/raw/{source.name}/{source.filename}"


def prepared(task, lang, split):
    return f"data/prepared/{task}/{lang}/{split}.jsonl"


def translated(data, shard, suffix="jsonl"):
    """A translation shard's records (suffix jsonl) or its statistics (stats.json)."""
    return f"data/translated/{data.mt_model}/{data.task}/{data.lang}/shard{shard}.{suffix}"


def translation_report(data):
    return f"data/translated/{data.mt_model}/{data.task}/{data.lang}/quality.json"


def dataset_files(data):
    """The training files of one dataset of an arm: the prepared split, or the translated shards its size cap
    covers."""
    if data.source != "translated":
        return [prepared(data.task, data.lang, "train")]
    return [translated(data, k) for k in range(GRID.dataset_shards(data))]


def translation_files(wildcards, suffix):
    """Every shard the grid translates for a translation job's (MT model, task, language)."""
    data = translation_of(wildcards)
    return [translated(data, k, suffix) for k in range(GRID.translation_shards(data))]


def arm_data(arm):
    return {d.name: dataset_files(d) for d in GRID.arm_datasets(arm)}


def arm_inputs(wildcards):
    """An intermediate job reads its datasets' files; translated data also wait for their quality report
    (ancient: a report rewritten because another arm added shards does not retrain this arm)."""
    datasets = GRID.arm_datasets(wildcards.arm)
    return {
        "model": base_model(wildcards.model),
        "data": [f for d in datasets for f in dataset_files(d)],
        "quality": [ancient(translation_report(d)) for d in datasets if d.source == "translated"],
        "code": task_code(*GRID.arm_tasks(wildcards.arm)),
    }


def translation_of(wildcards):
    """The Dataset a translation job's wildcards name (any arm's; they agree on everything but the cap)."""
    key = (wildcards.mt, wildcards.task, wildcards.lang)
    return next(d for d in GRID.translations() if (d.mt_model, d.task, d.lang) == key)


def mt_model_dir(name):
    return config["translation"]["models"][name].get("path") or f"models/mt/{name}"


def converted_mt_model(name):
    """The CTranslate2 conversion of an MT model: an input of its translation jobs under that backend."""
    if GRID.translation_backend() != "ctranslate2":
        return []
    return f"models/mt-ctranslate2/{name}"


def converted_option(wildcards, input):
    return f"--converted {input.converted}" if input.converted else ""


def task_code(*tasks):
    """The source files of the tasks' modules and of their families' modules, as inputs: editing one task's
    file reruns only that task's jobs, editing a family reruns its tasks."""
    modules = {m for t in tasks for m in (get_task(t).read.__module__, type(get_task(t).family).__module__)}
    return sorted(sys.modules[m].__file__ for m in modules)


def translation_code():
    """The translation package's source files: a change to how records are translated retranslates."""
    import xstilts.translation

    return sorted(str(f) for f in Path(xstilts.translation.__file__).parent.glob("*.py"))


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


def prepare_inputs(wildcards):
    task = get_task(wildcards.task)
    inputs = {s.name: raw_path(s) for s in task.sources_for(wildcards.lang, wildcards.split)}
    inputs["code"] = task_code(wildcards.task)
    return inputs


def predict_inputs(wildcards):
    return {"model": prediction_model(wildcards), "code": task_code(wildcards.task), **test_inputs(wildcards)}


def runs():
    return [dict(model=m, arm=a, seed=s) for m in GRID.models for a in GRID.arms for s in GRID.seeds]


def all_prepared():
    files = {prepared(t, lang, "test") for t in GRID.targets for lang in GRID.languages(t)}
    files |= {prepared(get_task(t).train_task, "en", "train") for t in GRID.finetuned_targets()}
    files |= {prepared(d.task, "en" if d.source == "translated" else d.lang, "train")
              for a in GRID.arms for d in GRID.arm_datasets(a)}
    return sorted(files)


def all_translations():
    return [translation_report(d) for d in GRID.translations()]


def all_intermediate_models():
    return [f"models/intermediate/{r['model']}/{r['arm']}/seed{r['seed']}" for r in runs() if r["arm"] != BASELINE_ARM]


def all_predictions():
    return [f"results/predictions/{r['model']}/{r['arm']}/seed{r['seed']}/{t}" for r in runs() for t in GRID.targets]


def all_scores():
    return [f"results/scores/{r['model']}/{r['arm']}/seed{r['seed']}/{t}" for r in runs() for t in GRID.targets]


def _resource(function, key):
    return lambda wildcards, attempt: function(config["models"][wildcards.model], attempt).get(key)


def train_resources_of_rule():
    """Every resource a training job may need, each derived from its model's config entry (None = unset)."""
    keys = ("runtime", "cpus_per_task", "mem_mb", "nodes", "tasks", "tasks_per_gpu", "gres", "slurm_extra", "mpi")
    return {key: _resource(train_resources, key) for key in keys}


def _translation_resource(function, key):
    return lambda wildcards, attempt: function(config["translation"], attempt).get(key)


def translate_resources_of_rule():
    keys = ("runtime", "cpus_per_task", "mem_mb", "gres")
    return {key: _translation_resource(translate_resources, key) for key in keys}


def convert_resources_of_rule():
    return {key: _translation_resource(convert_resources, key) for key in ("runtime", "cpus_per_task", "mem_mb")}


def predict_resources_of_rule():
    return {key: _resource(predict_resources, key) for key in ("runtime", "cpus_per_task", "mem_mb", "gres")}


def check_slurm_settings():
    """Before any job is submitted to Slurm: partitions, GPU partitions and accounts against the cluster."""
    plugin = workflow.executor_plugin
    if plugin is None or plugin.name != "slurm":
        return
    from xstilts.slurm import cluster_facts, slurm_problems

    jobs = [(job.rule.name, dict(job.resources.items())) for job in workflow.dag.needrun_jobs()
            if not job.is_local]
    problems = slurm_problems(jobs, cluster_facts())
    if problems:
        raise WorkflowError("Slurm settings do not fit this cluster:\n  " + "\n  ".join(problems))


DELTA_FIGURE = "paper/figures/delta-{model}-{arm}"


def delta_figures(suffix):
    """{(model, arm): path} of every per-language delta heat map with this suffix, one per model and arm but
    the baseline (rules/paper.smk)."""
    runs = [(m, a) for m in GRID.models for a in GRID.arms if a != BASELINE_ARM]
    return {(m, a): f"{DELTA_FIGURE.format(model=m, arm=a)}.{suffix}" for m, a in runs}
