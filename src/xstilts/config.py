"""Checks of config.yaml beyond its JSON schema (names against the task registry and each other), and the
per-job config slices the rules pass as `params`.

Runs when Snakemake parses the workflow, before any job: every error names the config key and the allowed
values. Cheap by design (no torch), since every cluster job parses the workflow again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from .tasks import TASKS, get_task
from .translation.engine import DEFAULT_BACKEND

TRAIN_KEYS = {"lr", "epochs", "batch_size", "grad_accum", "warmup", "weight_decay", "max_grad_norm", "save_steps",
              "dropout", "keep_checkpoints"}
ARM_KEYS = TRAIN_KEYS | {"tasks", "sampling", "max_examples"}
ENTRY_KEYS = {"task", "languages", "source", "max_examples", "mt_model"}
TARGET_KEYS = TRAIN_KEYS | {"max_length", "max_examples", "doc_stride"}
MODEL_TRAIN_KEYS = ("deepspeed", "bf16", "gradient_checkpointing")
BASELINE_ARM = "none"
# where an arm entry's training data come from: the task's English release, existing non-English data (the task
# registry lists the languages), or our machine translation of the English training set
SOURCES_OF_DATA = ("original", "native", "translated")


@dataclass(frozen=True)
class Dataset:
    """One (task, language, source, size cap) of an arm: one dataset of its training mix."""

    task: str
    lang: str = "en"
    source: str = "original"
    max_examples: int | None = None
    mt_model: str | None = None  # translated data: the translation model's config name

    @property
    def name(self) -> str:
        """The dataset's name in the training job (`--data NAME=FILE`), unique within an arm."""
        if self.source == "original":
            return self.task
        return f"{self.task}-{self.lang}" + ("-mt" if self.source == "translated" else "")

    def describe(self) -> str:
        return f"{self.lang}:{self.task} ({self.source})"


class ConfigError(ValueError):
    pass


def _allowed(values) -> str:
    return ", ".join(sorted(values)) or "(none)"


def _check_names(key: str, names, allowed) -> None:
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ConfigError(f"config key {key}: unknown {', '.join(map(repr, unknown))}; allowed: {_allowed(allowed)}")


def _check_duplicates(key: str, values) -> None:
    seen, dupes = set(), []
    for v in values:
        if v in seen:
            dupes.append(v)
        seen.add(v)
    if dupes:
        raise ConfigError(f"config key {key}: duplicate entries {', '.join(map(repr, dupes))}")


def _check_case_collisions(key: str, names) -> None:
    """Names that differ only in case write the same output paths on case-insensitive file systems."""
    by_fold: dict[str, list[str]] = {}
    for name in names:
        by_fold.setdefault(name.casefold(), []).append(name)
    clashes = [group for group in by_fold.values() if len(group) > 1]
    if clashes:
        shown = "; ".join(" and ".join(map(repr, group)) for group in clashes)
        raise ConfigError(f"config key {key}: {shown} differ only in case, so their runs would write the same "
                          f"output paths on case-insensitive file systems; rename one")


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (PyYAML keeps the last silently: two arms of one name
    would write the same outputs, and only one of them would run)."""


def _unique_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise ConfigError(f"{key_node.start_mark.name}:{line}: key {key!r} is given twice (first on line "
                              f"{seen[key]}); only one entry of a name can run")
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def check_config_files(paths) -> None:
    """Re-read the config files Snakemake loaded, failing on keys given twice."""
    for path in paths:
        with open(path, encoding="utf-8") as f:
            yaml.load(f, Loader=_StrictLoader)


def _check_doc_stride(key: str, task: str, data: dict) -> None:
    """Span QA windows overlap by doc_stride, which must stay under half the window (SpanQA.featurize)."""
    default = getattr(get_task(task).family, "doc_stride", None)
    if default is None or "max_length" not in data:
        return
    stride = data.get("doc_stride", default)
    if stride >= data["max_length"] // 2:
        raise ConfigError(f"config key {key}: doc_stride {stride} must be under half of max_length "
                          f"{data['max_length']}" + ("" if "doc_stride" in data else " (the default doc_stride)"))


def _entry_datasets(config: dict, arm: str, entry) -> list[Dataset]:
    """An arm entry: "mnli" or "en:mnli" (the English release), or a mapping {task, languages, source,
    max_examples, mt_model} that expands to one dataset per language."""
    key = f"arms.{arm}.tasks"
    if isinstance(entry, str):
        lang, sep, task = entry.rpartition(":")
        if sep and lang != "en":
            raise ConfigError(f"config key {key}: {entry!r}: only English entries have the short form 'en:<task>'; "
                              f"write {{task: {task}, languages: [{lang}], source: native or translated}}")
        return [Dataset(task)]
    _check_names(f"{key}[{entry.get('task')}]", entry, ENTRY_KEYS)
    source = entry.get("source", "original")
    default = config.get("translation", {}).get("languages", []) if source == "translated" else ["en"]
    languages = entry.get("languages", default)
    if not languages:
        raise ConfigError(f"config key {key}[{entry['task']}].languages: none given (and no translation.languages)")
    _check_duplicates(f"{key}[{entry['task']}].languages", languages)
    mt_model = entry.get("mt_model", config.get("translation", {}).get("model")) if source == "translated" else None
    return [Dataset(entry["task"], lang, source, entry.get("max_examples"), mt_model) for lang in languages]


def arm_datasets(config: dict, arm: str) -> list[Dataset]:
    return [d for entry in config["arms"][arm]["tasks"] for d in _entry_datasets(config, arm, entry)]


def _check_dataset(config: dict, arm: str, data: Dataset) -> None:
    key = f"arms.{arm}.tasks"
    _check_names(key, [data.task], config["intermediate"])
    task = get_task(data.task)
    if data.source == "original" and data.lang != "en":
        raise ConfigError(f"config key {key}: {data.describe()}: source original is the English release; "
                          f"non-English data need source native or translated")
    if data.source == "native" and data.lang not in task.languages:
        has = f"it has {', '.join(task.native_languages)}" if task.native_languages else "it has none"
        raise ConfigError(f"config key {key}: {data.task} has no native non-English training data in "
                          f"{data.lang!r} ({has}); use source: translated")
    if data.source == "translated":
        if not task.family.translatable:
            raise ConfigError(f"config key {key}: {data.task} cannot be machine-translated: "
                              f"{task.family.untranslatable_reason}")
        if data.lang == "en":
            raise ConfigError(f"config key {key}: {data.describe()}: translation is from English, so 'en' is no "
                              f"target language")
        if data.max_examples is None:
            raise ConfigError(f"config key {key}: {data.describe()}: translated entries need max_examples (how many "
                              f"English training examples to translate)")
        models = config.get("translation", {}).get("models", {})
        if data.mt_model is None:
            raise ConfigError(f"config key {key}: {data.describe()}: no translation model (set translation.model)")
        _check_names(f"{key}[{data.task}].mt_model", [data.mt_model], models)


def _check_arm(config: dict, arm: str) -> None:
    arm_cfg = config["arms"][arm]
    _check_names(f"arms.{arm}", arm_cfg, ARM_KEYS)
    datasets = arm_datasets(config, arm)
    for data in datasets:
        _check_dataset(config, arm, data)
    names = [d.name for d in datasets]
    dupes = sorted({d.describe() for d in datasets if names.count(d.name) > 1})
    if dupes:
        raise ConfigError(f"config key arms.{arm}.tasks: the same data twice: {', '.join(dupes)}")
    sampling = arm_cfg.get("sampling", {})
    if sampling.get("rule") == "temperature" and "temperature" not in sampling:
        raise ConfigError(f"config key arms.{arm}.sampling: rule temperature needs a temperature (a number > 0)")
    if not datasets and arm != BASELINE_ARM:
        raise ConfigError(f"config key arms.{arm}.tasks: empty; only the baseline arm {BASELINE_ARM!r} has no tasks")
    if datasets:
        missing = sorted({"lr", "epochs", "batch_size"} - set(arm_cfg) - set(config["training"]))
        if missing:
            raise ConfigError(f"config key arms.{arm}: missing {', '.join(missing)} (and no default in training)")


def _check_translation(config: dict, grid: "Grid") -> None:
    """Every (model, language) the grid's arms translate into exists in that MT model, spelled our way; the
    compute type suits the backend."""
    cfg = config.get("translation") or {}
    if cfg and grid.translation_backend() == "transformers" and cfg.get("compute_type", "auto").startswith("int8"):
        raise ConfigError(f"config key translation.compute_type: {cfg['compute_type']} needs backend ctranslate2 "
                          f"(transformers runs auto, float32, float16 or bfloat16)")
    wanted: dict[str, set[str]] = {}
    for data in grid.translations():
        wanted.setdefault(data.mt_model, set()).add(data.lang)
    if not wanted:
        return
    from .translation.languages import mt_language_errors

    errors = []
    for name, langs in sorted(wanted.items()):
        model = config["translation"]["models"][name]
        if model["family"] == "marian" and "path" not in model:
            errors.append(f"model {name}: marian models are one per direction; give a local `path` holding "
                          f"<src>-<tgt>/ folders (en-de/, de-en/, ...)")
            continue
        errors += mt_language_errors(name, model, sorted(langs))
    if errors:
        raise ConfigError("config key translation: " + "; ".join(errors))


def _head_signature(task: str) -> tuple:
    """What tasks sharing a head must agree on: family, head type, number of outputs and label order."""
    family = get_task(task).family
    return family.name, family.head, family.num_outputs(), tuple(getattr(family, "labels", ()))


def _describe_head(task: str) -> str:
    name, _, outputs, labels = _head_signature(task)
    shown = ", ".join(labels[:8]) + (", ..." if len(labels) > 8 else "")
    return f"{task} ({name}, {outputs} outputs" + (f": {shown})" if labels else ")")


def _check_shared_heads(config: dict) -> None:
    """Tasks of one arm that name the same `head` (intermediate.<task>.head, default the task's own name) are
    trained through one output layer (xstilts.train), so they must produce the same outputs."""
    for arm, arm_cfg in config["arms"].items():
        by_head: dict[str, list[str]] = {}
        for task in dict.fromkeys(d.task for d in arm_datasets(config, arm)):
            by_head.setdefault(config["intermediate"][task].get("head", task), []).append(task)
        for head, tasks in by_head.items():
            first = tasks[0]
            for other in tasks[1:]:
                if _head_signature(other) != _head_signature(first):
                    key = other if "head" in config["intermediate"][other] else first
                    raise ConfigError(
                        f"config key intermediate.{key}.head: arm {arm!r} trains {first} and {other} through one "
                        f"head {head!r}, but {_describe_head(first)} and {_describe_head(other)} differ; tasks "
                        f"sharing a head need the same family and outputs")


@dataclass(frozen=True)
class Grid:
    """The checked run grid plus helpers that slice the config per job."""

    config: dict

    @property
    def models(self) -> list[str]:
        return self.config["grid"]["models"]

    @property
    def arms(self) -> list[str]:
        return self.config["grid"]["arms"]

    @property
    def targets(self) -> list[str]:
        return self.config["grid"]["targets"]

    @property
    def seeds(self) -> list[int]:
        return self.config["grid"]["seeds"]

    def languages(self, task: str) -> list[str]:
        """The task's official languages (in evaluate.py's order) that the grid selects."""
        wanted = self.config["grid"]["languages"]
        official = get_task(task).languages
        return list(official) if wanted == "all" else [lang for lang in official if lang in wanted]

    def arm_datasets(self, arm: str) -> list[Dataset]:
        return arm_datasets(self.config, arm)

    def arm_tasks(self, arm: str) -> list[str]:
        return list(dict.fromkeys(d.task for d in self.arm_datasets(arm)))

    def arm_kind(self, arm: str) -> str:
        """baseline (no intermediate training), english (English releases only), multilingual (any non-English
        data) or mlm (masked-LM on a corpus alongside the tasks)."""
        datasets = self.arm_datasets(arm)
        if not datasets:
            return "baseline"
        if any(get_task(d.task).family.head == "mlm" for d in datasets):
            return "mlm"
        return "english" if all(d.lang == "en" for d in datasets) else "multilingual"

    def dataset_shards(self, data: Dataset) -> int:
        """The translation shards a translated dataset trains on: those its size cap covers."""
        return math.ceil(data.max_examples / self.config["translation"]["shard_size"])

    def translation_shards(self, data: Dataset) -> int:
        """Shards of the English training set translated for `data`'s (model, task, language): fixed-size
        slices of one seeded order, so a larger cap anywhere in the grid only adds shards."""
        return max(self.dataset_shards(d) for arm in self.arms for d in self.arm_datasets(arm)
                   if (d.source, d.mt_model, d.task, d.lang) == ("translated", data.mt_model, data.task, data.lang))

    def translation_backend(self) -> str:
        """The decoding engine of the translation jobs: ctranslate2 runs each MT model converted once."""
        return self.config["translation"].get("backend", DEFAULT_BACKEND)

    def translation_settings(self, mt_model: str) -> dict:
        """What shapes a translation's output (a tracked param of its jobs): the model entry, decoding and
        sharding. Batch size only changes speed, so it is not part of it."""
        cfg = self.config["translation"]
        return {"model": mt_model, **cfg["models"][mt_model], "shard_size": cfg["shard_size"],
                "backend": self.translation_backend(), "compute_type": cfg.get("compute_type", "auto"),
                "num_beams": cfg.get("num_beams", 4), "max_length": cfg.get("max_length", 200)}

    def translation_quality(self) -> dict:
        return dict(self.config["translation"].get("quality", {}))

    def translations(self) -> list[Dataset]:
        """The (model, task, language) translations the grid's arms train on, one representative each."""
        seen = {}
        for arm in self.arms:
            for d in self.arm_datasets(arm):
                if d.source == "translated":
                    seen.setdefault((d.mt_model, d.task, d.lang), d)
        return list(seen.values())

    def finetuned_targets(self) -> list[str]:
        return [t for t in self.targets if get_task(t).finetuned]

    def train_settings(self, model: str, overrides: dict, seed: int) -> dict:
        """Defaults from `training`, then the model's training switches, then the arm's or target's own."""
        model_cfg = self.config["models"][model]
        settings = dict(self.config["training"])
        settings.update({k: model_cfg[k] for k in MODEL_TRAIN_KEYS if k in model_cfg})
        settings.update({k: v for k, v in overrides.items() if k in TRAIN_KEYS or k == "sampling"})
        settings["seed"] = seed
        return settings

    def arm_train_config(self, model: str, arm: str, seed: int) -> dict:
        """Everything that shapes an intermediate training job (passed to it as one tracked param)."""
        arm_cfg = self.config["arms"][arm]
        config = self.train_settings(model, arm_cfg, seed)
        if "max_examples" in arm_cfg:
            config["sampling"] = {**config.get("sampling", {}), "max_examples": arm_cfg["max_examples"]}
        config["tasks"] = {}
        for data in self.arm_datasets(arm):
            settings = {**self.config["intermediate"][data.task], "task": data.task}
            if data.max_examples is not None:
                settings["max_examples"] = data.max_examples
            if get_task(data.task).family.head == "mlm":
                settings["seed"] = seed  # masks differ between seeds, like the rest of the data order
            config["tasks"][data.name] = settings
        return config

    def target_train_config(self, model: str, task: str, seed: int) -> dict:
        target = self.config["targets"][task]
        config = self.train_settings(model, target, seed)
        data = {k: target[k] for k in ("max_length", "max_examples", "doc_stride") if k in target}
        config["tasks"] = {get_task(task).train_task: data}
        return config

    def predict_settings(self, model: str, task: str) -> dict:
        model_cfg = self.config["models"][model]
        target = self.config["targets"][task]
        settings = {k: target[k] for k in ("max_length", "doc_stride") if k in target}
        settings["batch_size"] = model_cfg.get("predict_batch_size", 32)
        settings["bf16"] = model_cfg.get("bf16", False)
        if not get_task(task).finetuned:
            settings["layer"] = model_cfg["retrieval_layer"]
            settings["pooling"] = model_cfg.get("retrieval_pooling", "mean")
        return settings


def check_config(config: dict) -> Grid:
    grid = config["grid"]
    targets = {name for name, task in TASKS.items() if task.is_target}
    _check_names("grid.targets", grid["targets"], targets)
    _check_names("grid.models", grid["models"], config["models"])
    _check_names("grid.arms", grid["arms"], config["arms"])
    for key in ("models", "arms", "targets", "seeds"):
        _check_duplicates(f"grid.{key}", grid[key])
    _check_case_collisions("arms", config["arms"])
    _check_case_collisions("models", config["models"])
    # intermediate training reads a task's English training split
    trainable = {name for name, task in TASKS.items() if "train" in task.splits and "en" in task.languages}
    _check_names("intermediate", config["intermediate"], trainable)
    for task, data in config["intermediate"].items():
        _check_doc_stride(f"intermediate.{task}", task, data)
    _check_names("training", config["training"], TRAIN_KEYS)

    for arm in config["arms"]:
        _check_arm(config, arm)
    if BASELINE_ARM in config["arms"] and config["arms"][BASELINE_ARM]["tasks"]:
        raise ConfigError(f"config key arms.{BASELINE_ARM}.tasks: the baseline arm must have no tasks")
    _check_shared_heads(config)

    for task in grid["targets"]:
        if task not in config["targets"]:
            raise ConfigError(f"config key targets: no settings for grid target {task!r} (needs at least max_length)")
    for task, target in config["targets"].items():
        _check_names(f"targets.{task}", [task], targets)
        _check_names(f"targets.{task}", target, TARGET_KEYS)
        _check_doc_stride(f"targets.{task}", task, target)
        if get_task(task).finetuned:
            missing = sorted({"lr", "epochs", "batch_size"} - set(target) - set(config["training"]))
            if missing:
                raise ConfigError(f"config key targets.{task}: missing {', '.join(missing)} (and no default in training)")

    languages = grid["languages"]
    if languages != "all":
        known = {lang for t in grid["targets"] for lang in get_task(t).languages}
        _check_names("grid.languages", languages, known)
        _check_duplicates("grid.languages", languages)
    checked = Grid(config)
    for task in grid["targets"]:
        if not checked.languages(task):
            raise ConfigError(f"config key grid.languages: selects none of {task}'s languages "
                              f"({', '.join(get_task(task).languages)})")
    _check_translation(config, checked)
    from .plan import fit_errors  # plan builds on Grid

    errors = fit_errors(checked)
    if errors:
        raise ConfigError("\n".join(errors))
    return checked


SCHEMA = Path(__file__).resolve().parents[2] / "rules" / "config.schema.yaml"


def load_config(path: Path) -> Grid:
    """Read, validate (the workflow's schema, defaults filled in) and check a config file outside Snakemake."""
    from snakemake.utils import validate

    check_config_files([path])
    config = yaml.safe_load(Path(path).read_text())
    validate(config, str(SCHEMA))
    return check_config(config)
