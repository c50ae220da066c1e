"""Tests for the config checks: the JSON schema (rules/config.schema.yaml, applied with snakemake.utils.validate as
the workflow does) and xstilts.config.check_config, whose errors name the config key and the allowed values; and
the Grid helpers that slice the config per job."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from xstilts.config import ConfigError, Grid, check_config
from xstilts.tasks import get_task

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "rules" / "config.schema.yaml"


def load(name):
    return yaml.safe_load((ROOT / name).read_text())


@pytest.fixture(params=["config.yaml", "profiles/demo/demo.yaml"])
def config(request):
    return load(request.param)


@pytest.fixture
def main():
    return load("config.yaml")


@pytest.fixture
def small():
    """A small explicit config for the Grid slicing logic, independent of what the shipped files hold."""
    return {
        "grid": {"models": ["m"], "arms": ["none", "nli", "qa"], "targets": ["tatoeba", "xquad", "xnli", "panx"],
                 "languages": "all", "seeds": [1, 2, 3]},
        "download": {"mirror": None},
        "models": {"m": {"hf_id": "org/m", "retrieval_layer": 3, "deepspeed": "zero2", "bf16": True,
                         "gradient_checkpointing": False, "predict_batch_size": 8}},
        "intermediate": {"snli": {"max_length": 64, "head": "nli"}, "mnli": {"max_length": 128, "head": "nli"},
                         "squad": {"max_length": 384, "doc_stride": 128}},
        "arms": {"none": {"tasks": []},
                 "nli": {"tasks": ["snli", "mnli"], "lr": 2.0e-5, "epochs": 2},
                 "qa": {"tasks": ["squad"], "batch_size": 2}},
        "targets": {"tatoeba": {"max_length": 512},
                    "xquad": {"epochs": 2, "grad_accum": 4, "max_length": 384, "doc_stride": 64},
                    "xnli": {"lr": 5.0e-6, "max_length": 256},
                    "panx": {"epochs": 10, "max_length": 128, "max_examples": 1000}},
        "training": {"lr": 1.0e-5, "epochs": 3, "batch_size": 4, "grad_accum": 8, "warmup": 0.1,
                     "weight_decay": 0.0, "max_grad_norm": 1.0, "save_steps": 1000},
    }


def checked(config):
    validate(config, str(SCHEMA))
    return check_config(config)


def test_shipped_configs_pass(config):
    grid = checked(config)
    assert grid.targets == config["grid"]["targets"] and grid.arms == config["grid"]["arms"]
    assert grid.models == config["grid"]["models"] and grid.seeds == config["grid"]["seeds"]
    # every job's slice of the shipped file can be built, with the settings training needs
    for model in grid.models:
        for arm in grid.arms:
            arm_config = grid.arm_train_config(model, arm, seed=grid.seeds[0])
            assert list(arm_config["tasks"]) == [d.name for d in grid.arm_datasets(arm)]
            assert all(s["task"] == d.task for s, d in zip(arm_config["tasks"].values(), grid.arm_datasets(arm)))
            if arm_config["tasks"]:
                assert {"lr", "epochs", "batch_size"} <= set(arm_config)
        for task in grid.finetuned_targets():
            target_config = grid.target_train_config(model, task, seed=grid.seeds[0])
            assert {"lr", "epochs", "batch_size"} <= set(target_config)
            assert set(target_config["tasks"]) == {get_task(task).train_task}
        for task in grid.targets:
            assert grid.languages(task)
            assert grid.predict_settings(model, task)["max_length"] == config["targets"][task]["max_length"]


# --------------------------------------------------------------------------------- schema ---


@pytest.mark.parametrize("mutate, key", [
    (lambda c: c["grid"].update(seeds="1"), "seeds"),
    (lambda c: c["grid"].update(seeds=[1, "2"]), "seeds"),
    (lambda c: c["grid"].update(languages="some"), "languages"),
    (lambda c: c["training"].update(lr="fast"), "lr"),
    (lambda c: c["training"].update(batch_size=0), "batch_size"),
    (lambda c: c["grid"].update(unexpected=1), "unexpected"),
    (lambda c: c.update(extra={}), "extra"),
    (lambda c: c["intermediate"]["mnli"].update(max_len=128), "max_len"),
    (lambda c: next(iter(c["models"].values())).update(deepspeed="zero9"), "deepspeed"),
    (lambda c: next(iter(c["models"].values())).pop("retrieval_layer"), "retrieval_layer"),
    (lambda c: c["targets"]["xnli"].pop("max_length"), "max_length"),
    (lambda c: c["arms"]["en:mnli"].update(sampling={"rule": "random"}), "rule"),
    (lambda c: c.pop("training"), "training"),
])
def test_schema_rejects_and_names_the_key(config, mutate, key):
    mutate(config)
    with pytest.raises(Exception) as e:
        validate(config, str(SCHEMA))
    assert key in str(e.value)


# ---------------------------------------------------------------------------- check_config ---


def assert_config_error(config, *parts):
    with pytest.raises(ConfigError) as e:
        check_config(config)
    for part in parts:
        assert part in str(e.value), f"{part!r} not in {str(e.value)!r}"
    return str(e.value)


def test_unknown_target_task(config):
    config["grid"]["targets"].append("xnl")
    assert_config_error(config, "config key grid.targets", "'xnl'", "allowed: ", "panx", "tatoeba", "xnli", "xquad")


def test_intermediate_task_is_not_a_target(config):
    config["grid"]["targets"].append("mnli")
    config["targets"]["mnli"] = {"max_length": 64}
    message = assert_config_error(config, "config key grid.targets", "'mnli'")
    assert "mnli" not in message.split("allowed: ")[1].split(", ")


def test_unknown_model_in_grid(config):
    assert "xlm-roberta-huge" not in config["models"]
    config["grid"]["models"] = ["xlm-roberta-huge"]
    allowed = ", ".join(sorted(config["models"]))
    assert_config_error(config, "config key grid.models", "'xlm-roberta-huge'", f"allowed: {allowed}")


def test_unknown_arm_in_grid(config):
    assert "qnli" not in config["arms"]
    config["grid"]["arms"].append("qnli")
    allowed = ", ".join(sorted(config["arms"]))
    assert_config_error(config, "config key grid.arms", "'qnli'", f"allowed: {allowed}")


@pytest.mark.parametrize("where", ["arms", "targets"])
def test_unknown_training_key_in_arm_or_target(config, where):
    name = "en:mnli" if where == "arms" else "xnli"
    config[where][name]["learning_rate"] = 1e-5
    validate(config, str(SCHEMA))  # the schema lets it through (allOf), the registry check must not
    message = assert_config_error(config, f"config key {where}.{name}", "'learning_rate'", "allowed: ")
    assert "lr" in message.split("allowed: ")[1].split(", ")


def test_unknown_training_key_in_training_defaults(config):
    config["training"]["learning_rate"] = 1e-5
    validate(config, str(SCHEMA))
    assert_config_error(config, "config key training", "'learning_rate'", "allowed: ", "lr")


def test_language_not_in_any_target(config):
    config["grid"]["languages"] = ["en", "xx"]
    assert_config_error(config, "config key grid.languages", "'xx'", "allowed: ", "de", "ru", "zh")


def test_languages_selecting_nothing_for_a_target(config):
    config["grid"]["languages"] = ["jv"]  # PAN-X and Tatoeba have Javanese; XNLI and XQuAD do not
    assert_config_error(config, "config key grid.languages", "selects none of xnli's languages")


@pytest.mark.parametrize("key, values", [("seeds", [1, 2, 1]), ("arms", ["none", "en:mnli", "en:mnli"]),
                                         ("targets", ["xnli", "xnli"])])
def test_duplicates_in_grid(config, key, values):
    config["grid"][key] = values
    assert_config_error(config, f"config key grid.{key}", "duplicate entries", repr(values[-1]))


def test_duplicate_languages(config):
    config["grid"]["languages"] = ["en", "de", "en"]
    assert_config_error(config, "config key grid.languages", "duplicate entries 'en'")


def test_empty_non_baseline_arm(config):
    config["arms"]["en:mnli"]["tasks"] = []
    assert_config_error(config, "config key arms.en:mnli.tasks", "empty", "'none'")


def test_baseline_arm_with_tasks(config):
    config["arms"]["none"]["tasks"] = ["mnli"]
    config["arms"]["none"].update(lr=1e-5, epochs=1, batch_size=4)
    assert_config_error(config, "config key arms.none.tasks", "no tasks")


def test_arm_task_without_intermediate_settings(config):
    config["intermediate"].pop("squad_v2", None)  # a registered intermediate task, but without settings here
    config["arms"]["en:mnli"]["tasks"] = ["mnli", "squad", "squad_v2"]
    allowed = ", ".join(sorted(config["intermediate"]))
    assert_config_error(config, "config key arms.en:mnli.tasks", "'squad_v2'", f"allowed: {allowed}")


def test_intermediate_entry_for_unknown_task(config):
    config["intermediate"]["nope"] = {"max_length": 64}
    assert_config_error(config, "config key intermediate", "'nope'", "allowed: ", "mnli", "squad")


def test_intermediate_task_needs_an_english_train_split(config):
    config["intermediate"]["xquad"] = {"max_length": 64}
    message = assert_config_error(config, "config key intermediate", "'xquad'", "allowed: ", "mnli", "squad")
    assert "tatoeba" not in message.split("allowed: ")[1]


def test_missing_targets_entry(config):
    del config["targets"]["panx"]
    assert_config_error(config, "config key targets", "'panx'", "max_length")


def test_target_settings_for_unknown_task(config):
    config["targets"]["nope"] = {"max_length": 64}
    assert_config_error(config, "config key targets.nope", "'nope'", "allowed: ", "xnli")


def without_default(config, key):
    """Move training.<key> (if set) into every arm with tasks and every fine-tuned target, so that a single arm
    or target can then lack it."""
    default = config["training"].pop(key, None)
    if default is not None:
        for arm in config["arms"].values():
            if arm["tasks"]:
                arm.setdefault(key, default)
        for task, target in config["targets"].items():
            if get_task(task).finetuned:
                target.setdefault(key, default)
    return config


def test_missing_required_training_settings(config):
    original = copy.deepcopy(config)
    without_default(config, "lr")
    checked(config)  # every arm and target has its own lr now
    del config["arms"]["en:mnli"]["lr"]
    assert_config_error(config, "config key arms.en:mnli", "missing lr", "no default in training")
    config = without_default(copy.deepcopy(original), "epochs")
    checked(config)
    del config["targets"]["xnli"]["epochs"]
    assert_config_error(config, "config key targets.xnli", "missing epochs", "no default in training")


def test_training_defaults_fill_required_settings(config):
    del config["targets"]["xnli"]["epochs"]
    config["training"]["epochs"] = 3
    checked(config)


def test_duplicate_task_in_arm(config):
    config["arms"]["en:mnli"]["tasks"] = ["mnli", "mnli"]
    assert_config_error(config, "config key arms.en:mnli.tasks", "the same data twice", "en:mnli (original)")


def test_temperature_sampling_needs_a_temperature(config):
    config["arms"]["en:mnli"]["sampling"] = {"rule": "temperature"}
    validate(config, str(SCHEMA))
    assert_config_error(config, "config key arms.en:mnli.sampling", "temperature")
    config["arms"]["en:mnli"]["sampling"]["temperature"] = 2.0
    checked(config)


def test_doc_stride_must_fit_the_window(config):
    config["targets"]["xquad"]["max_length"] = 128
    config["targets"]["xquad"].pop("doc_stride", None)  # the default stride, 128, is too large for 128
    assert_config_error(config, "config key targets.xquad", "doc_stride 128", "max_length 128")
    config["targets"]["xquad"]["doc_stride"] = 32
    checked(config)
    config["intermediate"]["squad"] = {"max_length": 96, "doc_stride": 48}
    assert_config_error(config, "config key intermediate.squad", "doc_stride 48")


# ------------------------------------------------------------------------------------ Grid ---


def test_languages_follow_the_official_order(main):
    main["grid"]["languages"] = ["zh", "de", "en", "jv"]
    grid = checked(main)
    assert grid.languages("xnli") == ["de", "en", "zh"]
    assert grid.languages("panx") == ["jv", "en", "de", "zh"]  # evaluate.py's PAN-X order
    assert grid.languages("tatoeba") == ["jv", "de", "zh"]  # no English in Tatoeba
    main["grid"]["languages"] = "all"
    assert checked(main).languages("xquad") == list(get_task("xquad").languages)


def test_grid_lists(small):
    grid = checked(small)
    assert grid.models == ["m"] and grid.seeds == [1, 2, 3]
    assert grid.arms == ["none", "nli", "qa"] and grid.targets == ["tatoeba", "xquad", "xnli", "panx"]
    assert grid.arm_tasks("none") == [] and grid.arm_tasks("nli") == ["snli", "mnli"]
    assert grid.finetuned_targets() == ["xquad", "xnli", "panx"]  # grid order, retrieval tasks left out


def test_train_settings_precedence(small):
    small["training"].update(lr=1.0, bf16=False, epochs=9, dropout=0.3)
    small["models"]["m"].update(bf16=True, gradient_checkpointing=True)
    small["arms"]["nli"].update(dropout=0.2)
    grid = Grid(small)
    settings = grid.train_settings("m", small["arms"]["nli"], seed=7)
    assert settings["lr"] == 2.0e-5  # the arm's own beats the training default
    assert settings["epochs"] == 2 and settings["dropout"] == 0.2
    assert settings["bf16"] is True  # the model's switch beats the training default
    assert settings["gradient_checkpointing"] is True and settings["deepspeed"] == "zero2"
    assert settings["batch_size"] == 4 and settings["grad_accum"] == 8  # training defaults
    assert settings["warmup"] == 0.1 and settings["max_grad_norm"] == 1.0
    assert settings["seed"] == 7
    assert "tasks" not in settings and "retrieval_layer" not in settings and "hf_id" not in settings
    assert "predict_batch_size" not in settings
    qa = grid.train_settings("m", small["arms"]["qa"], seed=7)
    assert qa["batch_size"] == 2 and qa["lr"] == 1.0 and qa["epochs"] == 9 and qa["dropout"] == 0.3
    small["arms"]["nli"]["bf16"] = False  # not a training key of arms: ignored, the model decides
    assert grid.train_settings("m", small["arms"]["nli"], seed=7)["bf16"] is True


def test_arm_train_config(small):
    small["arms"]["nli"]["sampling"] = {"rule": "temperature", "temperature": 2}
    grid = checked(small)
    config = grid.arm_train_config("m", "nli", seed=2)
    assert config == {
        "warmup": 0.1, "weight_decay": 0.0, "max_grad_norm": 1.0, "save_steps": 1000,
        "deepspeed": "zero2", "bf16": True, "gradient_checkpointing": False,
        "lr": 2.0e-5, "epochs": 2, "batch_size": 4, "grad_accum": 8,
        "sampling": {"rule": "temperature", "temperature": 2},
        "seed": 2, "tasks": {"snli": {"max_length": 64, "head": "nli", "task": "snli"},
                             "mnli": {"max_length": 128, "head": "nli", "task": "mnli"}},
    }
    assert list(config["tasks"]) == ["snli", "mnli"]  # the arm's order
    config["tasks"]["mnli"]["max_length"] = 1
    assert small["intermediate"]["mnli"]["max_length"] == 128  # a copy, not the config itself


def test_target_train_config(config):
    grid = checked(config)
    model = grid.models[0]
    xquad = grid.target_train_config(model, "xquad", seed=1)
    assert set(xquad["tasks"]) == {"squad"}  # trained on the English training task
    assert xquad["tasks"]["squad"] == {k: config["targets"]["xquad"][k]
                                       for k in ("max_length", "doc_stride") if k in config["targets"]["xquad"]}
    for key in ("lr", "epochs", "batch_size"):  # the target's own, else the training default
        assert xquad[key] == config["targets"]["xquad"].get(key, config["training"].get(key))
    assert xquad["seed"] == 1
    assert "max_length" not in xquad
    assert set(grid.target_train_config(model, "xnli", seed=1)["tasks"]) == {"mnli"}
    assert set(grid.target_train_config(model, "panx", seed=1)["tasks"]) == {"panx"}


def test_target_train_config_slices(small):
    grid = checked(small)
    assert grid.target_train_config("m", "xquad", seed=3) == {
        "lr": 1.0e-5, "epochs": 2, "batch_size": 4, "grad_accum": 4,
        "warmup": 0.1, "weight_decay": 0.0, "max_grad_norm": 1.0, "save_steps": 1000,
        "deepspeed": "zero2", "bf16": True, "gradient_checkpointing": False,
        "seed": 3, "tasks": {"squad": {"max_length": 384, "doc_stride": 64}},
    }
    xnli = grid.target_train_config("m", "xnli", seed=1)
    assert xnli["lr"] == 5.0e-6 and xnli["epochs"] == 3 and xnli["tasks"] == {"mnli": {"max_length": 256}}
    panx = grid.target_train_config("m", "panx", seed=1)
    assert panx["epochs"] == 10 and panx["tasks"] == {"panx": {"max_length": 128, "max_examples": 1000}}


def test_predict_settings(main):
    grid = checked(main)
    assert grid.predict_settings("xlm-roberta-large", "xnli") == {"max_length": 256, "batch_size": 64, "bf16": True}
    assert grid.predict_settings("xlm-roberta-large", "tatoeba") == {"max_length": 512, "batch_size": 64,
                                                                     "bf16": True, "layer": 14, "pooling": "mean"}
    demo = load("profiles/demo/demo.yaml")
    grid = checked(demo)
    assert grid.predict_settings("tiny-xlmr", "xquad") == {"max_length": 96, "doc_stride": 32, "batch_size": 64,
                                                          "bf16": False}
    del demo["models"]["tiny-xlmr"]["predict_batch_size"]
    assert Grid(demo).predict_settings("tiny-xlmr", "tatoeba")["batch_size"] == 32
    demo["models"]["tiny-xlmr"]["retrieval_pooling"] = "cls"  # XTREME's run_bucc2018.sh choice
    assert Grid(demo).predict_settings("tiny-xlmr", "tatoeba")["pooling"] == "cls"
