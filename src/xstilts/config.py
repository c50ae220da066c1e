"""Checks of config.yaml beyond its JSON schema (names against the task registry and each other), and the
per-job config slices the rules pass as `params`.

Runs when Snakemake parses the workflow, before any job: every error names the config key and the allowed
values. Cheap by design (no torch), since every cluster job parses the workflow again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .tasks import TASKS, get_task

TRAIN_KEYS = {"lr", "epochs", "batch_size", "grad_accum", "warmup", "weight_decay", "max_grad_norm", "save_steps",
              "dropout", "keep_checkpoints"}
ARM_KEYS = TRAIN_KEYS | {"tasks", "sampling"}
TARGET_KEYS = TRAIN_KEYS | {"max_length", "max_examples", "doc_stride"}
MODEL_TRAIN_KEYS = ("deepspeed", "bf16", "gradient_checkpointing")
BASELINE_ARM = "none"


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


def _check_doc_stride(key: str, task: str, data: dict) -> None:
    """Span QA windows overlap by doc_stride, which must stay under half the window (SpanQA.featurize)."""
    default = getattr(get_task(task).family, "doc_stride", None)
    if default is None or "max_length" not in data:
        return
    stride = data.get("doc_stride", default)
    if stride >= data["max_length"] // 2:
        raise ConfigError(f"config key {key}: doc_stride {stride} must be under half of max_length "
                          f"{data['max_length']}" + ("" if "doc_stride" in data else " (the default doc_stride)"))


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
        for task in arm_cfg["tasks"]:
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

    def arm_tasks(self, arm: str) -> list[str]:
        return list(self.config["arms"][arm]["tasks"])

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
        config["tasks"] = {t: dict(self.config["intermediate"][t]) for t in arm_cfg["tasks"]}
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
    # intermediate training reads a task's English training split
    trainable = {name for name, task in TASKS.items() if "train" in task.splits and "en" in task.languages}
    _check_names("intermediate", config["intermediate"], trainable)
    for task, data in config["intermediate"].items():
        _check_doc_stride(f"intermediate.{task}", task, data)
    _check_names("training", config["training"], TRAIN_KEYS)

    for arm, arm_cfg in config["arms"].items():
        _check_names(f"arms.{arm}", arm_cfg, ARM_KEYS)
        _check_names(f"arms.{arm}.tasks", arm_cfg["tasks"], config["intermediate"])
        _check_duplicates(f"arms.{arm}.tasks", arm_cfg["tasks"])
        sampling = arm_cfg.get("sampling", {})
        if sampling.get("rule") == "temperature" and "temperature" not in sampling:
            raise ConfigError(f"config key arms.{arm}.sampling: rule temperature needs a temperature (a number > 0)")
        if not arm_cfg["tasks"] and arm != BASELINE_ARM:
            raise ConfigError(f"config key arms.{arm}.tasks: empty; only the baseline arm {BASELINE_ARM!r} has no tasks")
        if arm_cfg["tasks"]:
            missing = sorted({"lr", "epochs", "batch_size"} - set(arm_cfg) - set(config["training"]))
            if missing:
                raise ConfigError(f"config key arms.{arm}: missing {', '.join(missing)} (and no default in training)")
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
    from .plan import fit_errors  # plan builds on Grid

    errors = fit_errors(checked)
    if errors:
        raise ConfigError("\n".join(errors))
    return checked


SCHEMA = Path(__file__).resolve().parents[2] / "rules" / "config.schema.yaml"


def load_config(path: Path) -> Grid:
    """Read, validate (the workflow's schema, defaults filled in) and check a config file outside Snakemake."""
    from snakemake.utils import validate

    config = yaml.safe_load(Path(path).read_text())
    validate(config, str(SCHEMA))
    return check_config(config)
