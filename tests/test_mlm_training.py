"""The MLM arm end to end on the tiny model: MNLI plus CC-100 masked LM in three languages, trained through the
real entry point with DeepSpeed on CPU; then X-STILTs' next stage, fine-tuning from the saved encoder alone."""

import json

import pytest
import torch
from safetensors.torch import load_file

from conftest import run_train
from xstilts.families import MaskedLM, pad_features
from xstilts.jsonl import read_jsonl
from xstilts.metrics import accuracy
from xstilts.model import MultiTaskModel, load_encoder, load_model, load_tokenizer
from xstilts.predfiles import read_labels
from xstilts.predict import predict, write_gold

LANGUAGES = ("en", "de", "ru")
CONFIG = {"lr": 1e-3, "epochs": 3, "batch_size": 16, "warmup": 0.1, "weight_decay": 0.0, "max_grad_norm": 1.0,
          "save_steps": 10, "seed": 1, "deepspeed": "zero2", "bf16": False,
          "tasks": {"mnli": {"max_length": 64}, "cc100": {"max_length": 64}}}


def cc100_data(prepared):
    return [f"cc100={prepared('cc100', lang, 'train')}" for lang in LANGUAGES]


@pytest.fixture(scope="module")
def trained(demo_dir, prepared, tmp_path_factory):
    out = tmp_path_factory.mktemp("mlm")
    run_train("--init", demo_dir / "tiny-xlmr", "--data", f"mnli={prepared('mnli', 'en', 'train')}",
              *cc100_data(prepared), "--output", out / "model", "--checkpoints", out / "ckpt",
              "--config", json.dumps(CONFIG))
    return out / "model"


def mlm_loss(model, features, pad_token_id):
    """Mean cross-entropy over all predicted positions of `features`."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(features), 64):
            padded = pad_features(features[start : start + 64], pad_token_id)
            batch = {k: torch.from_numpy(v) for k, v in padded.items()}
            n = int((batch["labels"] != -100).sum())
            total += model("cc100", **batch)["loss"].item() * n
            count += n
    return total / count


def test_mlm_loss_decreases(demo_dir, prepared, trained):
    tiny = demo_dir / "tiny-xlmr"
    tokenizer = load_tokenizer(tiny)
    records = [r for lang in LANGUAGES for r in read_jsonl(prepared("cc100", lang, "train"))]
    # masks other than the training ones (seed 0): the model must predict tokens, not recall masked positions
    features = MaskedLM().featurize(records, tokenizer, {"max_length": 64, "seed": 99}, train=True)
    untrained = MultiTaskModel(load_encoder(tiny), {"cc100": ("mlm", None)}, {"cc100": "cc100"})
    before = mlm_loss(untrained, features, tokenizer.pad_token_id)
    after = mlm_loss(load_model(trained), features, tokenizer.pad_token_id)
    assert after < before - 0.5, f"MLM loss {before:.3f} before training, {after:.3f} after"


def test_saved_model_keeps_the_heads_apart_from_the_encoder(demo_dir, trained):
    summary = json.loads((trained / "train_summary.json").read_text())
    assert summary["deepspeed"] == "zero2" and summary["examples"]["cc100"] > 400
    vocabulary = len(load_tokenizer(demo_dir / "tiny-xlmr"))
    heads = json.loads((trained / "heads.json").read_text())
    assert heads["heads"] == {"mnli": ["sequence", 3], "cc100": ["mlm", vocabulary]}
    assert not any(v.shape[0] == vocabulary and v.ndim == 2 for v in load_file(trained / "heads.safetensors").values())
    base = load_encoder(demo_dir / "tiny-xlmr").state_dict()
    encoder = load_encoder(trained).state_dict()
    assert encoder.keys() == base.keys(), "no lm_head weights leak into the encoder"
    assert not torch.equal(encoder["embeddings.word_embeddings.weight"], base["embeddings.word_embeddings.weight"])


def test_target_fine_tuning_starts_from_the_mlm_trained_encoder(prepared, trained, tmp_path):
    config = {**CONFIG, "tasks": {"mnli": {"max_length": 64}}}
    run_train("--init", trained, "--data", f"mnli={prepared('mnli', 'en', 'train')}", "--output", tmp_path / "model",
              "--checkpoints", tmp_path / "ckpt", "--config", json.dumps(config))
    assert json.loads((tmp_path / "model" / "heads.json").read_text())["heads"] == {"mnli": ["sequence", 3]}
    test = {"en": prepared("xnli", "en", "test")}
    predict(tmp_path / "model", "xnli", test, tmp_path / "pred", {"max_length": 64, "batch_size": 32})
    write_gold("xnli", test, tmp_path / "gold")
    score = accuracy(read_labels(tmp_path / "gold" / "test-en.tsv"), read_labels(tmp_path / "pred" / "test-en.tsv"))
    assert score["accuracy"] >= 70.0, score


def test_zero3_trains_the_tied_head_as_zero2_does(demo_dir, prepared, tmp_path):
    # under ZeRO-3 the embedding matrix is partitioned and shared with the head's decoder: the gradient of both
    # uses must reach it, and the consolidated save must hold it once
    models = {}
    for stage in ("zero2", "zero3"):
        config = {**CONFIG, "deepspeed": stage, "epochs": 1, "warmup": 0,
                  "tasks": {"cc100": {"max_length": 64, "max_examples": 64}}}
        run_train("--init", demo_dir / "tiny-xlmr", "--data", f"cc100={prepared('cc100', 'en', 'train')}",
                  "--output", tmp_path / stage, "--checkpoints", tmp_path / f"ckpt-{stage}", "--config",
                  json.dumps(config))
        models[stage] = load_model(tmp_path / stage).state_dict()
    base = load_encoder(demo_dir / "tiny-xlmr").state_dict()
    embeddings = "encoder.embeddings.word_embeddings.weight"
    assert not torch.equal(models["zero3"][embeddings], base[embeddings.removeprefix("encoder.")])
    assert models["zero2"].keys() == models["zero3"].keys()
    for key, value in models["zero2"].items():
        torch.testing.assert_close(models["zero3"][key], value, rtol=1e-5, atol=1e-5, msg=key)
