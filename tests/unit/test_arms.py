"""Arms as lists of (task, language, source, size cap): the entry grammar, its checks at load time (native data
that exist, translatable families, MT models that have the language), the training slices, arm kinds, translation
shards, and the load-time refusals of configs whose runs would write the same outputs."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from xstilts.config import ConfigError, Dataset, check_config, check_config_files
from xstilts.schedule import build_schedule

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "rules" / "config.schema.yaml"
MAIN = yaml.safe_load((ROOT / "config.yaml").read_text())


@pytest.fixture
def main():
    return copy.deepcopy(MAIN)


def checked(config):
    validate(config, str(SCHEMA))
    return check_config(config)


def add_arm(config, name, tasks, **settings):
    config["arms"][name] = {"tasks": tasks, **settings}
    config["grid"]["arms"].append(name)
    return config


def error(config) -> str:
    with pytest.raises(ConfigError) as e:
        checked(config)
    return str(e.value)


def test_entries_expand_to_one_dataset_per_language(main):
    grid = checked(main)
    assert grid.arm_datasets("en:mnli") == [Dataset("mnli")]
    native = grid.arm_datasets("native:mnli")
    assert [d.name for d in native][:2] == ["mnli-ar", "mnli-bg"] and len(native) == 14
    assert {(d.source, d.max_examples) for d in native} == {("native", 28050)}
    translated = grid.arm_datasets("tt:mnli")  # no languages: translation.languages
    assert [d.lang for d in translated] == main["translation"]["languages"]
    assert {d.name for d in translated} == {f"mnli-{lang}-mt" for lang in main["translation"]["languages"]}
    assert {d.mt_model for d in translated} == {main["translation"]["model"]}


def test_short_english_form_and_its_misuse(main):
    add_arm(main, "x", ["en:qqp"])
    assert checked(main).arm_datasets("x") == [Dataset("qqp")]
    main["arms"]["x"]["tasks"] = ["de:qqp"]
    message = error(main)
    assert "arms.x.tasks" in message and "'de:qqp'" in message and "source: native or translated" in message


def test_arm_kinds(main):
    grid = checked(main)
    kinds = {arm: grid.arm_kind(arm) for arm in grid.arms}
    assert kinds["none"] == "baseline" and kinds["en:multi"] == "english" and kinds["en:ccg"] == "english"
    assert kinds["native:squad"] == kinds["tt:mnli"] == kinds["mix:diverse"] == "multilingual"
    assert kinds["mlm:mnli"] == "mlm"


def test_arm_train_config_names_datasets_and_caps(main):
    grid = checked(main)
    config = grid.arm_train_config("xlm-roberta-large", "mix:diverse", seed=1)
    assert config["sampling"] == {"rule": "temperature", "temperature": 2, "max_examples": 392702}
    assert config["tasks"]["squad-ja-mt"] == {"max_length": 384, "task": "squad", "max_examples": 8760}
    assert config["tasks"]["mnli-de"] == {"max_length": 256, "head": "nli", "task": "mnli", "max_examples": 28050}
    assert "max_examples" not in grid.arm_train_config("xlm-roberta-large", "en:mnli", seed=1)["tasks"]["mnli"]


def test_native_data_must_exist(main):
    add_arm(main, "x", [{"task": "qqp", "languages": ["de"], "source": "native"}])
    message = error(main)
    assert "qqp has no native non-English training data in 'de' (it has none); use source: translated" in message
    main["arms"]["x"]["tasks"] = [{"task": "squad", "languages": ["ja"], "source": "native"}]
    assert "squad has no native non-English training data in 'ja' (it has ar, de" in error(main)


def test_ccg_cannot_be_translated_and_says_why(main):
    add_arm(main, "x", [{"task": "ccg", "languages": ["de"], "source": "translated", "max_examples": 100}])
    message = error(main)
    assert "ccg cannot be machine-translated" in message and "per token" in message


def test_translated_entries_need_a_cap_and_a_known_model(main):
    add_arm(main, "x", [{"task": "qqp", "languages": ["de"], "source": "translated"}])
    assert "needs max_examples" in error(main) or "need max_examples" in error(main)
    main["arms"]["x"]["tasks"][0].update(max_examples=100, mt_model="gpt-mt")
    message = error(main)
    assert "mt_model" in message and "'gpt-mt'" in message and "nllb-600m" in message


def test_a_language_the_mt_model_lacks_or_spells_its_own_way(main):
    add_arm(main, "x", [{"task": "qqp", "languages": ["qu"], "source": "translated", "max_examples": 100}])
    message = error(main)
    assert "config key translation" in message and "'qu'" in message and "nllb-1.3b" in message
    main["arms"]["x"]["tasks"][0]["languages"] = ["deu_Latn"]
    message = error(main)
    assert "'deu_Latn'" in message and "'de'" in message and "nllb-1.3b" in message
    main["translation"]["models"]["m2m"] = {"family": "m2m100", "hf_id": "facebook/m2m100_418M"}
    main["arms"]["x"]["tasks"][0].update(languages=["te"], mt_model="m2m")  # M2M100 has no Telugu
    message = error(main)
    assert "'te'" in message and "m2m" in message


def test_decoding_backend_and_precision_are_part_of_a_translations_settings(main):
    settings = checked(main).translation_settings("nllb-600m")
    assert settings["backend"] == "ctranslate2" and settings["compute_type"] == "auto"  # the schema's defaults
    main["translation"].update(backend="transformers", compute_type="int8")
    assert "config key translation.compute_type: int8 needs backend ctranslate2" in error(main)
    main["translation"]["compute_type"] = "int4"
    with pytest.raises(Exception, match="int4"):
        checked(main)


def test_the_same_data_twice_in_an_arm(main):
    add_arm(main, "x", ["mnli", {"task": "mnli", "languages": ["de", "fr", "de"], "source": "native"}])
    assert "arms.x.tasks[mnli].languages: duplicate entries 'de'" in error(main)
    main["arms"]["x"]["tasks"] = ["mnli", "en:mnli"]
    assert "the same data twice: en:mnli (original)" in error(main)


def test_arm_names_differing_only_in_case(main):
    add_arm(main, "EN:MNLI", ["mnli"])
    message = error(main)
    assert "'en:mnli' and 'EN:MNLI' differ only in case" in message


def test_a_key_given_twice_in_the_config_file_names_both_lines(tmp_path):
    text = (ROOT / "config.yaml").read_text()
    twice = text.replace('  "en:qqp": {tasks: [qqp]}\n', '  "en:qqp": {tasks: [qqp]}\n  "en:qqp": {tasks: [sst2]}\n')
    assert twice != text
    path = tmp_path / "config.yaml"
    path.write_text(twice)
    with pytest.raises(ConfigError) as e:
        check_config_files([path])
    line = twice.splitlines().index('  "en:qqp": {tasks: [sst2]}') + 1
    assert f"{path}:{line}: key 'en:qqp' is given twice (first on line {line - 1})" in str(e.value)
    check_config_files([ROOT / "config.yaml", ROOT / "profiles/demo/demo.yaml"])


def test_translation_shards_cover_the_largest_cap_in_the_grid(main):
    main["translation"]["shard_size"] = 1000
    add_arm(main, "x", [{"task": "mnli", "languages": ["ar"], "source": "translated", "max_examples": 2500}])
    grid = checked(main)
    ar = next(d for d in grid.translations() if d.task == "mnli" and d.lang == "ar")
    assert grid.translation_shards(ar) == 40  # tt:mnli translates 39,270 per language
    hi = next(d for d in grid.translations() if d.task == "mnli" and d.lang == "hi")
    assert grid.translation_shards(hi) == 40
    assert {(d.task, d.lang) for d in grid.translations()} >= {("hellaswag", "te"), ("squad", "ja")}


def test_an_arm_cap_bounds_the_examples_per_epoch():
    sizes = {"a": 1000, "b": 100}
    full = build_schedule(sizes, block=10, epochs=2, seed=0)
    capped = build_schedule(sizes, block=10, epochs=2, seed=0, sampling={"rule": "proportional", "max_examples": 300})
    assert len(full) == 2 * 1100 and len(capped) == 2 * 300
    hot = build_schedule(sizes, block=10, epochs=1, seed=0,
                         sampling={"rule": "temperature", "temperature": 5, "max_examples": 500})
    assert len(hot) == 500
    share_b = sum(1 for task, _ in hot if task == "b") / len(hot)
    assert share_b > 100 / 1100  # a high temperature raises the small dataset's share above proportional


def test_plan_shows_the_translation_volume(main):
    from xstilts.plan import translation_volume

    lines = translation_volume(checked(main))
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in lines[3:-1]}
    assert lines[-1] == "plus one CPU job per MT model converting it to CTranslate2: nllb-1.3b"
    # tt:mnli: 39,270 per language -> 8 shards of 5,000 in each of 10 languages, plus one quality job each
    assert rows[("nllb-1.3b", "mnli")] == ["10", "40000", "90"]
    assert rows[("nllb-1.3b", "hellaswag")] == ["10", "5000", "20"]
    main["arms"] = {k: v for k, v in main["arms"].items() if not k.startswith(("tt:", "mix:"))}
    main["grid"]["arms"] = [a for a in main["grid"]["arms"] if a in main["arms"]]
    assert translation_volume(checked(main)) == []
