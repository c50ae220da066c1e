"""Training and prediction on the tiny model and demo data, through the real entry points (DeepSpeed on CPU)."""

import json

import pytest
import torch
from safetensors.torch import load_file

from conftest import run_train
from xstilts.metrics import accuracy
from xstilts.model import MultiTaskModel, load_encoder, load_tokenizer
from xstilts.predfiles import read_labels
from xstilts.predict import predict, write_gold
from xstilts.train import STOPPED_AT_TIME_LIMIT

CONFIG = {"lr": 1e-3, "epochs": 4, "batch_size": 16, "warmup": 0.1, "weight_decay": 0.0, "max_grad_norm": 1.0,
          "save_steps": 10, "seed": 1, "deepspeed": "zero2", "bf16": False,
          "tasks": {"mnli": {"max_length": 64}}}


def xnli_accuracy(model_dir, prepared, out):
    test = {"en": prepared("xnli", "en", "test")}
    predict(model_dir, "xnli", test, out / "pred", {"max_length": 64, "batch_size": 32})
    write_gold("xnli", test, out / "gold")
    return accuracy(read_labels(out / "gold" / "test-en.tsv"), read_labels(out / "pred" / "test-en.tsv"))["accuracy"]


@pytest.fixture(scope="module")
def trained(demo_dir, prepared, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    run_train("--init", demo_dir / "tiny-xlmr", "--data", f"mnli={prepared('mnli', 'en', 'train')}",
              "--output", out / "model", "--checkpoints", out / "ckpt", "--config", json.dumps(CONFIG))
    return out


def test_fine_tuned_classifier_beats_untrained_model(demo_dir, prepared, trained, tmp_path):
    untrained = MultiTaskModel(load_encoder(demo_dir / "tiny-xlmr"), {"mnli": ("sequence", 3)}, {"mnli": "mnli"})
    untrained.save(tmp_path / "untrained", tokenizer=load_tokenizer(demo_dir / "tiny-xlmr"))
    before = xnli_accuracy(tmp_path / "untrained", prepared, tmp_path / "before")
    after = xnli_accuracy(trained / "model", prepared, tmp_path / "after")
    assert after >= 80.0, f"trained accuracy {after:.1f}"
    assert after > before + 30.0, f"trained {after:.1f} vs untrained {before:.1f}"


def test_training_uses_deepspeed_and_writes_the_model_layout(trained):
    summary = json.loads((trained / "model" / "train_summary.json").read_text())
    assert summary["deepspeed"] == "zero2"
    assert summary["resumed_from"] is None
    for name in ("config.json", "model.safetensors", "tokenizer.json", "heads.json", "heads.safetensors"):
        assert (trained / "model" / name).is_file(), name
    assert not any((trained / "ckpt").iterdir()), "checkpoints are removed after a successful run"


def test_time_limit_stops_with_checkpoint_and_rerun_resumes_to_the_same_model(demo_dir, prepared, trained, tmp_path):
    common = ["--init", demo_dir / "tiny-xlmr", "--data", f"mnli={prepared('mnli', 'en', 'train')}",
              "--output", tmp_path / "model", "--checkpoints", tmp_path / "ckpt", "--config", json.dumps(CONFIG)]
    stopped = run_train(*common, "--time-limit", "0", check=False)
    assert stopped.returncode == STOPPED_AT_TIME_LIMIT, stopped.stderr[-3000:]
    assert not (tmp_path / "model").exists()
    assert list((tmp_path / "ckpt").glob("*/checkpoint-*")), "a checkpoint is saved before stopping"

    run_train(*common)
    summary = json.loads((tmp_path / "model" / "train_summary.json").read_text())
    assert summary["resumed_from"] and "checkpoint-" in summary["resumed_from"]
    for name in ("model.safetensors", "heads.safetensors"):
        resumed, uninterrupted = load_file(tmp_path / "model" / name), load_file(trained / "model" / name)
        assert resumed.keys() == uninterrupted.keys()
        for key in resumed:
            torch.testing.assert_close(resumed[key], uninterrupted[key], rtol=0, atol=0, msg=key)


def test_zero3_run_ends_with_a_consolidated_model_that_loads_like_any_other(demo_dir, prepared, tmp_path):
    config = {**CONFIG, "deepspeed": "zero3"}
    run_train("--init", demo_dir / "tiny-xlmr", "--data", f"mnli={prepared('mnli', 'en', 'train')}",
              "--output", tmp_path / "model", "--checkpoints", tmp_path / "ckpt", "--config", json.dumps(config))
    # every encoder tensor comes back whole (ZeRO-3 partitions them during training), under the base model's names
    base = load_encoder(demo_dir / "tiny-xlmr").state_dict()
    trained = load_encoder(tmp_path / "model").state_dict()
    assert {k: v.shape for k, v in trained.items()} == {k: v.shape for k, v in base.items()}
    assert any(not torch.equal(trained[k], base[k]) for k in base), "the saved weights are the trained ones"
    assert xnli_accuracy(tmp_path / "model", prepared, tmp_path) >= 70.0
