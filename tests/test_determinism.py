"""Reproducibility on CPU: the same seed gives byte-identical predictions, a different seed different weights,
and every model, checkpoint and prediction directory says what produced it (provenance.json)."""

import json

import pytest
from safetensors.torch import load_file

from conftest import run_train
from xstilts.predict import predict
from xstilts.provenance import FILENAME, checksum, manifest, manifest_digest

# short: 8 optimizer steps, with dropout (its RNG is part of what must repeat) under DeepSpeed ZeRO-2 as in the demo
CONFIG = {"lr": 1e-3, "epochs": 1, "batch_size": 16, "warmup": 0.1, "weight_decay": 0.0, "max_grad_norm": 1.0,
          "save_steps": 1000, "seed": 1, "deepspeed": "zero2", "bf16": False, "dropout": 0.1,
          "tasks": {"mnli": {"max_length": 64, "max_examples": 128}}}
PREDICT = {"max_length": 64, "batch_size": 32}
LANGS = ("en", "de")


@pytest.fixture(scope="module")
def runs(demo_dir, prepared, tmp_path_factory):
    """Three fine-tunings (seed 1 twice, seed 2 once, keeping its checkpoint directory) and their predictions."""
    root = tmp_path_factory.mktemp("determinism")
    test = {lang: prepared("xnli", lang, "test") for lang in LANGS}
    out = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        config = {**CONFIG, "seed": seed, **({"keep_checkpoints": True} if name == "c" else {})}
        run_train("--init", demo_dir / "tiny-xlmr", "--data", f"mnli={prepared('mnli', 'en', 'train')}",
                  "--output", root / name / "model", "--checkpoints", root / name / "ckpt",
                  "--config", json.dumps(config))
        predict(root / name / "model", "xnli", test, root / name / "pred", PREDICT, rule="predict")
        out[name] = root / name
    return out


def test_same_seed_gives_byte_identical_predictions(runs):
    for lang in LANGS:
        a, b = ((runs[n] / "pred" / f"test-{lang}.tsv").read_bytes() for n in "ab")
        assert a, lang
        assert a == b, f"test-{lang}.tsv differs between two runs with seed 1"
    for name in ("model.safetensors", "heads.safetensors"):
        assert (runs["a"] / "model" / name).read_bytes() == (runs["b"] / "model" / name).read_bytes(), name


def test_a_different_seed_gives_different_weights(runs):
    a, c = load_file(runs["a"] / "model" / "model.safetensors"), load_file(runs["c"] / "model" / "model.safetensors")
    assert a.keys() == c.keys()
    assert any(not (a[k] == c[k]).all() for k in a), "seed 2 trained the same weights as seed 1"


def test_models_and_predictions_carry_their_provenance(runs, demo_dir, prepared):
    model_record = json.loads((runs["a"] / "model" / FILENAME).read_text())
    assert model_record["config"] == CONFIG and model_record["seed"] == 1
    assert model_record["inputs"]["init"]["sha256"] == checksum(demo_dir / "tiny-xlmr")
    assert model_record["inputs"]["mnli[0]"]["sha256"] == checksum(prepared("mnli", "en", "train"))
    assert model_record["started"] < model_record["finished"]
    assert "xstilts train" in model_record["command"]
    assert model_record["outputs"] == manifest(runs["a"] / "model", reuse=False)
    assert {"model.safetensors", "heads.safetensors", "train_summary.json"} <= set(model_record["outputs"])
    other = json.loads((runs["b"] / "model" / FILENAME).read_text())["outputs"]
    assert other["model.safetensors"] == model_record["outputs"]["model.safetensors"]

    pred_record = json.loads((runs["a"] / "pred" / FILENAME).read_text())
    assert pred_record["config"] == PREDICT and pred_record["rule"] == "predict"
    # the model is checksummed from its manifest: the same number as hashing its files
    assert pred_record["inputs"]["model"]["sha256"] == manifest_digest(manifest(runs["a"] / "model", reuse=False))
    assert pred_record["inputs"]["de"]["sha256"] == checksum(prepared("xnli", "de", "test"))
    assert set(pred_record["outputs"]) == {f"test-{lang}.tsv" for lang in LANGS}

    # the checkpoint run directory kept by seed 2 says what its checkpoints belong to, from the start of training
    (run_dir,) = (runs["c"] / "ckpt").iterdir()
    checkpoint_record = json.loads((run_dir / FILENAME).read_text())
    assert checkpoint_record["seed"] == 2 and checkpoint_record["config"]["seed"] == 2
    assert checkpoint_record["finished"] is None and "outputs" not in checkpoint_record
