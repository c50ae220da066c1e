"""The multiple-choice head on the tiny XLM-R, in process and without DeepSpeed: a few optimizer steps through
MultiTaskModel's forward and loss lower the loss, predict's model_outputs gives one score per choice, and the
model layout (heads.json) round-trips the choice head."""

import json
import random

import numpy as np
import pytest
import torch

from xstilts.demo import corpus_lines
from xstilts.families import MultipleChoice
from xstilts.model import MultiTaskModel, load_encoder, load_model, load_tokenizer
from xstilts.predict import model_outputs
from xstilts.schedule import collate
from xstilts.tiny import build_tiny_xlmr

CHOICES = 3
FAMILY = MultipleChoice(num_choices=CHOICES, question_with="context")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-mc")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(corpus_lines()) + "\n", encoding="utf-8")
    return build_tiny_xlmr(corpus, root / "model")


def records(n=24, seed=0):
    """The right answer is always 'green river', at a random position among two other phrases."""
    rng = random.Random(seed)
    lines = [line for line in corpus_lines() if line.strip()][:50]
    others = ["old city", "small table", "the window", "long road", "bread and music", "winter light"]
    out = []
    for i in range(n):
        label = rng.randrange(CHOICES)
        choices = rng.sample(others, CHOICES - 1)
        choices.insert(label, "green river")
        out.append({"id": str(i), "context": rng.choice(lines)[:80], "question": "what is it ?", "choices": choices,
                    "label": label})
    return out


def mean_loss(model, batches):
    model.eval()
    with torch.no_grad():
        return float(np.mean([model(**b)["loss"].item() for b in batches]))


def test_choice_head_trains_predicts_and_round_trips(tiny, tmp_path):
    torch.manual_seed(0)
    tokenizer = load_tokenizer(tiny)
    data = records()
    features = FAMILY.featurize(data, tokenizer, {"max_length": 48}, train=True)
    for f in features:  # as xstilts.train stores them
        f["input_ids"] = np.asarray(f["input_ids"], dtype=np.int32)
    batches = [collate([{"task": "mc", **f} for f in features[i : i + 8]], tokenizer.pad_token_id)
               for i in range(0, len(features), 8)]
    assert batches[0]["input_ids"].shape[:2] == (8, CHOICES) and batches[0]["labels"].shape == (8,)

    model = MultiTaskModel(load_encoder(tiny), {"mc": ("choice", FAMILY.num_outputs())}, {"mc": "mc"})
    out = model(**batches[0])
    assert out["logits"].shape == (8, CHOICES) and out["loss"].ndim == 0

    before = mean_loss(model, batches)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    for epoch in range(6):
        model.train()
        for batch in batches:
            loss = model(**batch)["loss"]
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    after = mean_loss(model, batches)
    assert after < before - 0.3, f"loss {before:.3f} -> {after:.3f}"

    model.eval()
    scores = model_outputs(model, "choice", "mc", features, tokenizer.pad_token_id, 5, torch.device("cpu"))
    assert scores.shape == (len(features), CHOICES)
    predictions = FAMILY.decode(data, features, scores)
    accuracy = np.mean([p == g for p, g in zip(predictions, FAMILY.gold(data))])
    assert accuracy >= 0.8, f"accuracy {accuracy:.2f}"
    # scores do not depend on how features are batched (padding is masked)
    one_by_one = model_outputs(model, "choice", "mc", features, tokenizer.pad_token_id, 3, torch.device("cpu"))
    np.testing.assert_allclose(scores, one_by_one, rtol=1e-4, atol=1e-5)

    model.save(tmp_path / "model", tokenizer=tokenizer)
    assert json.loads((tmp_path / "model" / "heads.json").read_text())["heads"] == {"mc": ["choice", CHOICES]}
    reloaded = load_model(tmp_path / "model").eval()
    again = model_outputs(reloaded, "choice", "mc", features, tokenizer.pad_token_id, 5, torch.device("cpu"))
    np.testing.assert_allclose(scores, again, rtol=1e-5, atol=1e-6)
