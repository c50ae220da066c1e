"""Test answers never reach a model: prediction sees records without their gold fields, and featurizing for
prediction adds no label of any kind; only BUCC keeps the dev ("sample") gold it tunes its threshold on."""

import random

import numpy as np
import pytest

from xstilts.jsonl import read_jsonl
from xstilts.model import load_tokenizer
from xstilts.tasks import get_task

LABEL_KEYS = {"labels", "start_positions", "end_positions"}
SETTINGS = {"xnli": {"max_length": 64}, "panx": {"max_length": 64}, "xquad": {"max_length": 96, "doc_stride": 32},
            "tatoeba": {"max_length": 64}}


@pytest.mark.parametrize("task_name, lang", [("xnli", "de"), ("panx", "ru"), ("xquad", "en"), ("tatoeba", "ru")])
def test_prediction_input_has_no_gold_and_predictions_do_not_depend_on_it(demo_dir, prepared, task_name, lang):
    task = get_task(task_name)
    tokenizer = load_tokenizer(demo_dir / "tiny-xlmr")
    records = list(read_jsonl(prepared(task_name, lang, "test")))
    visible = task.family.without_gold(records)
    assert all(not set(task.family.gold_fields) & set(r) for r in visible)
    features = task.family.featurize(visible, tokenizer, SETTINGS[task_name], train=False)
    assert not any(LABEL_KEYS & set(f) for f in features)

    # any outputs decode without the gold fields, and scrambling the gold cannot change the predictions
    rng = np.random.default_rng(0)
    if task.family.head == "span":
        width = max(len(f["input_ids"]) for f in features)
        outputs = (rng.normal(size=(len(features), width)), rng.normal(size=(len(features), width)))
    elif task.family.head == "token":
        outputs = [rng.normal(size=(len(f["input_ids"]), task.family.num_outputs())) for f in features]
    elif task.family.head is None:
        outputs = rng.normal(size=(len(features), 8)).astype(np.float32)
    else:
        outputs = rng.normal(size=(len(features), task.family.num_outputs()))
    scrambled = [dict(r) for r in records]
    random.Random(0).shuffle(scrambled)
    scrambled = [{**r, **{k: s[k] for k in task.family.gold_fields if k in s}} for r, s in zip(records, scrambled)]
    assert (task.family.decode(visible, features, outputs)
            == task.family.decode(task.family.without_gold(scrambled), features, outputs))


def test_bucc_keeps_only_the_dev_gold():
    family = get_task("bucc2018").family
    records = [{"id": "dev:de-1", "side": "src", "text": "a", "part": "dev", "gold": "dev:en-1"},
               {"id": "test:de-1", "side": "src", "text": "b", "part": "test", "gold": "test:en-1"}]
    assert [r.get("gold") for r in family.without_gold(records)] == ["dev:en-1", None]
