"""Every encoder family we support, as tiny random-weight checkpoints built offline, through our model layer:
XLM-R (xstilts.tiny), XLM-R XL (pre-LayerNorm, its own model class) and the mT5 encoder (saved as the full
seq2seq MT5ForConditionalGeneration, as google/mt5-* are published, so load_encoder must keep the encoder
half only).

For each: load_encoder gives the encoder alone with the checkpoint's weights (none left at random init), a
MultiTaskModel with a sequence, a token, a span and a choice head runs forward and backward on padded batches
with finite losses and gradients, padding does not change outputs, save() then load_model() round-trips every
weight exactly, and retrieval's layer pooling (predict.model_outputs with no head) works on any layer. Also:
the XL checkpoint's tokenizer (a generic TokenizersBackend in transformers 5) encodes as XLM-R's, and every
family's featurize output trains with every checkpoint's own tokenizer (mT5 tagging is a known failure)."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from xstilts.demo import corpus_lines
from xstilts.families import pad_features
from xstilts.model import MultiTaskModel, load_encoder, load_model, load_tokenizer
from xstilts.predict import model_outputs
from xstilts.schedule import collate
from xstilts.tiny import build_tiny_xlmr

HIDDEN, LAYERS = 32, 2
HEADS = {"nli": ("sequence", 3), "ner": ("token", 5), "qa": ("span", 2), "mc": ("choice", 3)}
ENCODER_CLASS = {"xlmr": "XLMRobertaModel", "xlmr-xl": "XLMRobertaXLModel", "mt5": "MT5EncoderModel"}
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """name -> directory of a tiny random-weight checkpoint with its tokenizer, in the published layout."""
    from transformers import (MT5Config, MT5ForConditionalGeneration, T5Tokenizer, XLMRobertaXLConfig,
                              XLMRobertaXLForMaskedLM)

    root = tmp_path_factory.mktemp("encoders")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(corpus_lines()) + "\n", encoding="utf-8")
    xlmr = build_tiny_xlmr(corpus, root / "xlmr", hidden=HIDDEN, layers=LAYERS)
    tokenizer = load_tokenizer(xlmr)
    torch.manual_seed(0)

    # XLM-R XL / XXL: same tokenizer as XLM-R, a different architecture (pre-LayerNorm, final encoder LayerNorm)
    xl = root / "xlmr-xl"
    XLMRobertaXLForMaskedLM(XLMRobertaXLConfig(
        vocab_size=len(tokenizer), hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=2,
        intermediate_size=2 * HIDDEN, max_position_embeddings=130, type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id)).save_pretrained(xl)
    tokenizer.save_pretrained(xl)

    # mT5: a T5 SentencePiece tokenizer over the same pieces, in mT5's layout (<pad>=0, </s>=1, <unk>=2, no <s>)
    pieces = json.loads((xlmr / "tokenizer.json").read_text())["model"]["vocab"]
    pieces = [(p, s) for p, s in pieces if p not in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")]
    t5_tokenizer = T5Tokenizer(vocab=[("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + pieces, extra_ids=0)
    assert (t5_tokenizer.pad_token_id, t5_tokenizer.eos_token_id) == (0, 1)
    assert len(t5_tokenizer) == len(pieces) + 3
    mt5 = root / "mt5"
    MT5ForConditionalGeneration(MT5Config(
        vocab_size=len(t5_tokenizer), d_model=HIDDEN, d_kv=16, d_ff=2 * HIDDEN, num_layers=LAYERS,
        num_decoder_layers=LAYERS, num_heads=2, relative_attention_num_buckets=8,
        pad_token_id=t5_tokenizer.pad_token_id, eos_token_id=t5_tokenizer.eos_token_id,
        decoder_start_token_id=t5_tokenizer.pad_token_id)).save_pretrained(mt5)
    t5_tokenizer.save_pretrained(mt5)
    return {"xlmr": xlmr, "xlmr-xl": xl, "mt5": mt5}


ARCHS = ["xlmr", "xlmr-xl", "mt5"]
TEXTS = [line for line in corpus_lines() if line.strip()][:12]


def batches(tokenizer) -> dict[str, dict]:
    """One padded batch per head, made by the real padding code (pad_features via collate), with sequences of
    different lengths so every batch has padding."""
    pad = tokenizer.pad_token_id
    ids = [np.asarray(x, dtype=np.int32) for x in tokenizer(TEXTS[:6], truncation=True, max_length=24)["input_ids"]]
    ids = [x[: 8 + 3 * i] for i, x in enumerate(ids)]  # lengths 8, 11, ..., 23
    assert len({len(x) for x in ids}) == len(ids)
    nli = [{"input_ids": x, "labels": i % 3} for i, x in enumerate(ids)]
    ner = [{"input_ids": x, "labels": [-100] + [(i + j) % 5 for j in range(len(x) - 2)] + [-100]}
           for i, x in enumerate(ids)]
    qa = [{"input_ids": x, "start_positions": 1 + i % 3, "end_positions": 3 + i % 3} for i, x in enumerate(ids)]
    mc = []
    for i in range(4):  # choice rows padded within the feature, as MultipleChoice.featurize stores them
        rows = [ids[(i + c) % len(ids)] for c in range(3)]
        width = max(len(r) for r in rows)
        mc.append({"input_ids": [np.pad(r, (0, width - len(r)), constant_values=pad) for r in rows],
                   "choice_lengths": [len(r) for r in rows], "labels": i % 3})
    return {task: collate([{"task": task, **f} for f in feats], pad)
            for task, feats in (("nli", nli), ("ner", ner), ("qa", qa), ("mc", mc))}


def checkpoint_weights(directory) -> dict[str, torch.Tensor]:
    files = sorted(directory.glob("*.safetensors"))
    assert files, f"no weights in {directory}"
    return {k: v for f in files for k, v in load_file(f).items()}


@pytest.mark.parametrize("arch", ARCHS)
def test_load_encoder_gives_the_encoder_alone_with_the_checkpoint_weights(checkpoints, arch):
    encoder = load_encoder(checkpoints[arch])
    assert type(encoder).__name__ == ENCODER_CLASS[arch]
    state = encoder.state_dict()
    assert not any("decoder" in k or "lm_head" in k or k.startswith("pooler.") for k in state), \
        [k for k in state if "decoder" in k or "lm_head" in k or k.startswith("pooler.")][:5]
    saved = checkpoint_weights(checkpoints[arch])
    prefix = encoder.base_model_prefix  # "roberta" in the masked-LM checkpoints; mT5's keys are unprefixed
    loaded = 0
    for key, value in state.items():
        for name in (key, f"{prefix}.{key}"):
            if name in saved:
                torch.testing.assert_close(value, saved[name], rtol=0, atol=0, msg=key)
                loaded += 1
                break
        else:  # only a weight tied to one that was loaded (mT5's encoder.embed_tokens is `shared`) may be absent
            tied = [k for k, v in state.items() if k != key and v.data_ptr() == value.data_ptr() and
                    (k in saved or f"{prefix}.{k}" in saved)]
            assert tied, f"{arch}: {key} is not in the checkpoint (left at random init)"
    assert loaded >= len(state) - 1
    assert encoder.config.hidden_size == HIDDEN


def test_xlmr_xl_tokenizer_encodes_as_xlmr(checkpoints):
    """transformers 5 maps model_type xlm-roberta-xl to the generic TokenizersBackend (built from tokenizer.json),
    not XLMRobertaTokenizer: it must still encode pairs, truncate and give offsets exactly as XLM-R's."""
    xlmr, xl = load_tokenizer(checkpoints["xlmr"]), load_tokenizer(checkpoints["xlmr-xl"])
    pairs = ([t[:20] for t in TEXTS[4:8]], TEXTS[:4])  # (question, context): contexts overflow into windows
    kwargs = {"truncation": "only_second", "max_length": 24, "stride": 4, "return_overflowing_tokens": True,
              "return_offsets_mapping": True}
    a, b = xlmr(*pairs, **kwargs), xl(*pairs, **kwargs)
    for key in ("input_ids", "offset_mapping", "overflow_to_sample_mapping"):
        assert a[key] == b[key], key
    assert [a.sequence_ids(i) for i in range(len(a["input_ids"]))] == \
        [b.sequence_ids(i) for i in range(len(b["input_ids"]))]
    special = ("cls_token_id", "sep_token_id", "pad_token_id")
    assert [getattr(xl, k) for k in special] == [getattr(xlmr, k) for k in special]


@pytest.mark.parametrize("arch", ARCHS)
def test_all_heads_train_pad_and_round_trip(checkpoints, arch, tmp_path):
    torch.manual_seed(0)
    tokenizer = load_tokenizer(checkpoints[arch])
    model = MultiTaskModel(load_encoder(checkpoints[arch]), HEADS, {t: t for t in HEADS})
    data = batches(tokenizer)
    assert data["mc"]["input_ids"].shape[:2] == (4, 3)

    model.train()
    for task, batch in data.items():
        model.zero_grad()
        out = model(**batch)
        assert torch.isfinite(out["loss"]), (task, out["loss"])
        out["loss"].backward()
        head = [p.grad for p in model.heads[task].parameters()]
        encoder = [p.grad for p in model.encoder.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in head), task
        assert sum(g is not None for g in encoder) > len(encoder) // 2, task
        assert all(torch.isfinite(g).all() for g in encoder if g is not None), task
        assert any(g.abs().sum() > 0 for g in encoder if g is not None), task
    # a step changes the encoder (gradients reach it through every head kind)
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    assert any(not torch.equal(before[k], v) for k, v in model.encoder.state_dict().items())

    # padding is masked: a sequence's outputs are the same alone and in a padded batch
    model.eval()
    with torch.no_grad():
        nli = data["nli"]
        padded = model("nli", nli["input_ids"], nli["attention_mask"])["logits"]
        qa = model("qa", nli["input_ids"], nli["attention_mask"])
        for i in (0, 3):
            n = int(nli["attention_mask"][i].sum())
            assert n < nli["input_ids"].shape[1]
            ids, mask = nli["input_ids"][i : i + 1, :n], nli["attention_mask"][i : i + 1, :n]
            torch.testing.assert_close(model("nli", ids, mask)["logits"][0], padded[i], rtol=1e-4, atol=1e-5)
            alone = model("qa", ids, mask)
            torch.testing.assert_close(alone["start_logits"][0], qa["start_logits"][i, :n], rtol=1e-4, atol=1e-5)
            assert (qa["start_logits"][i, n:] == -1e4).all()
        reference = {task: model(**batch) for task, batch in data.items()}

    model.save(tmp_path / "model", tokenizer=tokenizer)
    saved = checkpoint_weights(tmp_path / "model")
    assert not any("decoder" in k or "lm_head" in k for k in saved)
    heads = json.loads((tmp_path / "model" / "heads.json").read_text())["heads"]
    assert heads == {k: list(v) for k, v in HEADS.items()}
    reloaded = load_model(tmp_path / "model").eval()
    assert type(reloaded.encoder).__name__ == ENCODER_CLASS[arch]
    original, again = model.state_dict(), reloaded.state_dict()
    assert original.keys() == again.keys()
    for key in original:
        torch.testing.assert_close(again[key], original[key], rtol=0, atol=0, msg=key)
    assert load_tokenizer(tmp_path / "model")(TEXTS[0])["input_ids"] == tokenizer(TEXTS[0])["input_ids"]
    with torch.no_grad():
        for task, batch in data.items():
            out = reloaded(**batch)
            for key, value in reference[task].items():
                torch.testing.assert_close(out[key], value, rtol=0, atol=0, msg=f"{task} {key}")


@pytest.mark.parametrize("arch", ARCHS)
def test_retrieval_layer_pooling(checkpoints, arch):
    tokenizer = load_tokenizer(checkpoints[arch])
    encoder = load_encoder(checkpoints[arch]).eval()
    features = [{"input_ids": ids, "example": i}
                for i, ids in enumerate(tokenizer(TEXTS, truncation=True, max_length=32)["input_ids"])]
    assert len({len(f["input_ids"]) for f in features}) > 1
    by_layer = []
    for layer in range(LAYERS + 1):
        batched = model_outputs(encoder, None, "tatoeba", features, tokenizer.pad_token_id, 5, CPU, layer)
        assert batched.shape == (len(TEXTS), HIDDEN) and np.isfinite(batched).all()
        # mean over real tokens only: the same sentence embedding unbatched
        alone = model_outputs(encoder, None, "tatoeba", features, tokenizer.pad_token_id, 1, CPU, layer)
        np.testing.assert_allclose(batched, alone, rtol=1e-4, atol=1e-5)
        by_layer.append(batched)
    # the layer is honoured, and -1 is the last layer
    assert not np.allclose(by_layer[0], by_layer[-1])
    last = model_outputs(encoder, None, "tatoeba", features, tokenizer.pad_token_id, 5, CPU, -1)
    np.testing.assert_allclose(last, by_layer[-1], rtol=0, atol=0)
    # pooled by hand from the encoder's output for one padded batch
    batch = {k: torch.from_numpy(v) for k, v in pad_features(features[:4], tokenizer.pad_token_id).items()}
    with torch.no_grad():
        states = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    expected = ((states * mask).sum(1) / mask.sum(1)).numpy()
    np.testing.assert_allclose(by_layer[-1][:4], expected, rtol=1e-4, atol=1e-5)
    # "cls" pooling: the first position's state (<s> for XLM-R; mT5 has no <s>, so its first subword)
    cls = model_outputs(encoder, None, "tatoeba", features, tokenizer.pad_token_id, 5, CPU, -1, pooling="cls")
    np.testing.assert_allclose(cls[:4], states[:, 0].numpy(), rtol=1e-4, atol=1e-5)


def family_records(task: str) -> list[dict]:
    lines = TEXTS
    if task == "mnli":
        return [{"id": str(i), "text_a": lines[i], "text_b": lines[i + 1][:30], "label": label}
                for i, label in enumerate(("entailment", "neutral", "contradiction", "neutral"))]
    if task == "panx":
        return [{"id": "0", "tokens": ["Anna", "sees", "the", "river"], "tags": ["B-PER", "O", "O", "O"]},
                {"id": "1", "tokens": ["Red", "Cross", "in", "Nova", "Lisboa"],
                 "tags": ["B-ORG", "I-ORG", "O", "B-LOC", "I-LOC"]}]
    if task == "squad":
        out = []
        for i, line in enumerate(lines[:3]):
            context = f"{line} in 1987 ."
            out.append({"id": str(i), "title": "t", "context": context, "question": "When did it happen ?",
                        "answers": [{"text": "1987", "answer_start": context.index("1987")}]})
        return out
    if task == "cosmosqa":
        return [{"id": str(i), "context": lines[i][:40], "question": "what is it ?", "label": i % 4,
                 "choices": ["green river", "old city", "small table", "the window"]} for i in range(3)]
    raise KeyError(task)


@pytest.mark.parametrize("task", ["mnli", "panx", "squad", "cosmosqa"])
@pytest.mark.parametrize("arch", ARCHS)
def test_each_family_featurizes_and_trains_with_each_tokenizer(checkpoints, arch, task):
    """The training path of xstilts.train for one batch: featurize with the checkpoint's own tokenizer, int32
    ids, collate, forward and backward through the family's head."""
    from xstilts.tasks import get_task

    family = get_task(task).family
    tokenizer = load_tokenizer(checkpoints[arch])
    features = family.featurize(family_records(task), tokenizer, {"max_length": 32, "doc_stride": 8}, train=True)
    for f in features:
        f["input_ids"] = np.asarray(f["input_ids"], dtype=np.int32)
    batch = collate([{"task": task, **f} for f in features], tokenizer.pad_token_id)
    model = MultiTaskModel(load_encoder(checkpoints[arch]), {task: (family.head, family.num_outputs())},
                           {task: task})
    loss = model(**batch)["loss"]
    assert torch.isfinite(loss)
    loss.backward()
