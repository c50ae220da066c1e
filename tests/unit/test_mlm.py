"""The MLM arm's pieces: the masked-LM family (BERT/RoBERTa masking on the tiny XLM-R tokenizer), the "mlm" head
(RobertaLMHead tied to the input embeddings, initialised from the checkpoint's lm_head), and the CC-100 task
(registry facts, and the reader on whole files, truncated prefixes and corrupt ones)."""

import json
import lzma
import random

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from xstilts.families import MaskedLM, RecordError, pad_features
from xstilts.formats import RawFormatError
from xstilts.model import MultiTaskModel, load_encoder, load_model, load_tokenizer
from xstilts.tasks import SOURCES, Source, get_task
from xstilts.tasks.cc100 import corpus_lines

FAMILY = MaskedLM()


def sentences(n, words=12, seed=0):
    """Demo-vocabulary lines of `words` words (the tiny tokenizer was trained on these words)."""
    from xstilts.demo import WORDS

    rng = random.Random(seed)
    return [{"id": f"s{i}", "text": " ".join(rng.choice(WORDS[rng.choice(["en", "de", "ru"])]) for _ in range(words))}
            for i in range(n)]


def plain_ids(tokenizer, records, max_length):
    return tokenizer([r["text"] for r in records], truncation=True, max_length=max_length)["input_ids"]


# ---------------------------------------------------------------------------------------------- masking ---


def test_masking_follows_bert_proportions(tokenizer):
    records = sentences(1200, words=20)
    features = FAMILY.featurize(records, tokenizer, {"max_length": 64}, train=True)
    original = np.concatenate([np.asarray(ids) for ids in plain_ids(tokenizer, records, 64)])
    inputs = np.concatenate([f["input_ids"] for f in features])
    labels = np.concatenate([f["labels"] for f in features])
    maskable = ~np.isin(original, tokenizer.all_special_ids)
    selected = labels != -100
    assert maskable.sum() > 20000
    assert abs(selected.sum() / maskable.sum() - 0.15) < 0.01
    assert (labels[selected] == original[selected]).all(), "labels are the original ids"
    masked = inputs[selected] == tokenizer.mask_token_id
    kept = inputs[selected] == original[selected]
    randomized = ~masked & ~kept
    assert abs(masked.mean() - 0.8) < 0.03
    assert abs(kept.mean() - 0.1) < 0.03  # (a random token equal to the original counts as kept: ~0.03%)
    assert abs(randomized.mean() - 0.1) < 0.03
    assert not np.isin(inputs[selected][randomized], tokenizer.all_special_ids).any(), "random tokens are not special"
    assert (inputs[~selected] == original[~selected]).all(), "unselected positions are untouched"


def test_special_tokens_are_never_masked_or_predicted(tokenizer):
    # "<mask>" and "<pad>" written in the text become special ids: inputs, never predicted
    records = sentences(200, words=3) + [{"id": "lit", "text": "house <mask> river <pad> green"}]
    features = FAMILY.featurize(records, tokenizer, {"max_length": 64, "mask_probability": 0.9}, train=True)
    special = set(tokenizer.all_special_ids)
    for feature, ids in zip(features, plain_ids(tokenizer, records, 64)):
        for position, token in enumerate(ids):
            if token in special:
                assert feature["input_ids"][position] == token and feature["labels"][position] == -100
        assert feature["input_ids"][0] == tokenizer.cls_token_id and feature["input_ids"][-1] == tokenizer.sep_token_id
    literal = plain_ids(tokenizer, records[-1:], 64)[0]
    assert tokenizer.mask_token_id in literal and tokenizer.pad_token_id in literal


def test_every_line_predicts_at_least_one_token(tokenizer):
    # one-word lines would often draw no 15% position at all; a batch of them would have an empty (NaN) loss
    records = [{"id": f"w{i}", "text": w} for i, w in enumerate(["house", "river", "green", "Anna", "7"] * 20)]
    features = FAMILY.featurize(records, tokenizer, {"max_length": 16}, train=True)
    assert len(features) == len(records)
    for feature in features:
        assert (feature["labels"] != -100).sum() >= 1


def test_masks_are_deterministic_and_independent_of_order_and_subset(tokenizer):
    records = sentences(50)
    settings = {"max_length": 32, "seed": 3}
    first = FAMILY.featurize(records, tokenizer, settings, train=True)
    again = FAMILY.featurize(records, tokenizer, dict(settings), train=True)
    shuffled = records[::-1][:20]
    subset = FAMILY.featurize(shuffled, tokenizer, settings, train=True)
    by_id = {records[f["example"]]["id"]: f for f in first}
    for f, g in zip(first, again):
        assert np.array_equal(f["input_ids"], g["input_ids"]) and np.array_equal(f["labels"], g["labels"])
    for f in subset:
        same = by_id[shuffled[f["example"]]["id"]]
        assert np.array_equal(f["input_ids"], same["input_ids"]) and np.array_equal(f["labels"], same["labels"])
    other_seed = FAMILY.featurize(records, tokenizer, {**settings, "seed": 4}, train=True)
    assert any(not np.array_equal(f["labels"], g["labels"]) for f, g in zip(first, other_seed))


def test_lines_are_truncated_to_max_length_one_feature_each(tokenizer):
    records = sentences(10, words=60)
    features = FAMILY.featurize(records, tokenizer, {"max_length": 20}, train=True)
    assert [f["example"] for f in features] == list(range(10))
    assert all(len(f["input_ids"]) == len(f["labels"]) == 20 for f in features)
    assert all(f["input_ids"][-1] == tokenizer.sep_token_id for f in features)


def test_prediction_features_are_unmasked_and_unlabelled(tokenizer):
    records = sentences(5)
    features = FAMILY.featurize(records, tokenizer, {"max_length": 32}, train=False)
    assert [list(f["input_ids"]) for f in features] == plain_ids(tokenizer, records, 32)
    assert not any("labels" in f for f in features)


def test_padded_batches_ignore_padding_in_the_loss(tokenizer):
    features = FAMILY.featurize(sentences(3, words=4) + sentences(1, words=20), tokenizer, {"max_length": 64},
                                train=True)
    batch = pad_features(features, tokenizer.pad_token_id)
    assert batch["labels"].shape == batch["input_ids"].shape
    padding = batch["attention_mask"] == 0
    assert padding.any() and (batch["labels"][padding] == -100).all()
    for row, f in zip(batch["labels"], features):
        assert np.array_equal(row[: len(f["labels"])], f["labels"])


def t5_tokenizer(tokenizer, path, extra_ids):
    from transformers import T5Tokenizer

    # mT5's layout (as tests/test_encoders.py builds it): <pad>, </s>, <unk>, the pieces, sentinels; no <mask>
    pieces = json.loads(tokenizer.backend_tokenizer.to_str())["model"]["vocab"]
    pieces = [(p, s) for p, s in pieces if p not in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")]
    T5Tokenizer(vocab=[("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + pieces, extra_ids=extra_ids).save_pretrained(path)
    return load_tokenizer(path)


def test_mt5_masks_with_its_first_sentinel(tokenizer, tmp_path):
    t5 = t5_tokenizer(tokenizer, tmp_path / "mt5-tiny", extra_ids=100)
    assert t5.mask_token_id is None
    sentinel = t5.convert_tokens_to_ids("<extra_id_0>")
    features = FAMILY.featurize(sentences(40), t5, {"max_length": 32}, train=True)
    masked = [f["input_ids"][i] for f in features for i in np.flatnonzero(np.asarray(f["labels"]) != -100)]
    assert masked.count(sentinel) > 0.6 * len(masked)


def test_tokenizer_without_mask_token_or_sentinel_is_refused(tokenizer, tmp_path):
    t5 = t5_tokenizer(tokenizer, tmp_path / "t5-bare", extra_ids=0)
    with pytest.raises(ValueError, match=r"t5-bare has no mask token and no <extra_id_0>.*leave the masked-LM tasks"):
        FAMILY.featurize(sentences(2), t5, {"max_length": 16}, train=True)


def test_record_checks():
    FAMILY.check_record({"id": "a", "text": "x"}, "f:1")
    with pytest.raises(RecordError, match="f:2: masked-LM record has no text"):
        FAMILY.check_record({"id": "a", "text": "  "}, "f:2")
    with pytest.raises(RecordError, match="lacks text"):
        FAMILY.check_record({"id": "a"}, "f:3")
    assert FAMILY.num_outputs() is None and FAMILY.head == "mlm" and not FAMILY.translatable


# ------------------------------------------------------------------------------------------------- head ---


def test_head_starts_from_the_checkpoint_lm_head_and_matches_xlmr(demo_dir, tokenizer):
    from transformers import XLMRobertaForMaskedLM

    tiny = demo_dir / "tiny-xlmr"
    model = MultiTaskModel(load_encoder(tiny), {"cc100": ("mlm", None)}, {"cc100": "cc100"}).eval()
    reference = XLMRobertaForMaskedLM.from_pretrained(tiny).eval()
    assert model.head_specs["cc100"] == ("mlm", len(tokenizer))
    batch = {k: torch.from_numpy(v) for k, v in pad_features(
        FAMILY.featurize(sentences(4), tokenizer, {"max_length": 32}, train=False), tokenizer.pad_token_id).items()}
    with torch.no_grad():
        ours = model("cc100", **batch)["logits"]
        theirs = reference(**batch).logits
    torch.testing.assert_close(ours, theirs)


def test_loss_is_cross_entropy_over_labelled_positions(demo_dir, tokenizer):
    model = MultiTaskModel(load_encoder(demo_dir / "tiny-xlmr"), {"cc100": ("mlm", None)}, {"cc100": "cc100"}).eval()
    features = FAMILY.featurize(sentences(4), tokenizer, {"max_length": 32}, train=True)
    batch = {k: torch.from_numpy(v) for k, v in pad_features(features, tokenizer.pad_token_id).items()}
    with torch.no_grad():
        out = model("cc100", **batch)
        full = model("cc100", batch["input_ids"], batch["attention_mask"])["logits"]
    chosen = batch["labels"] != -100
    assert out["logits"].shape == (int(chosen.sum()), len(tokenizer))
    torch.testing.assert_close(out["loss"], torch.nn.functional.cross_entropy(full[chosen], batch["labels"][chosen]))


def test_head_is_tied_and_saved_without_a_copy_of_the_embeddings(demo_dir, tokenizer, tmp_path):
    tiny = demo_dir / "tiny-xlmr"
    model = MultiTaskModel(load_encoder(tiny), {"cc100": ("mlm", None), "mnli": ("sequence", 3)},
                           {"cc100": "cc100", "mnli": "mnli"})
    embeddings = model.encoder.get_input_embeddings().weight
    assert not any(p is embeddings for p in model.heads.parameters())
    features = FAMILY.featurize(sentences(4), tokenizer, {"max_length": 32}, train=True)
    batch = {k: torch.from_numpy(v) for k, v in pad_features(features, tokenizer.pad_token_id).items()}
    model("cc100", **batch)["loss"].backward()
    used = set(batch["input_ids"].flatten().tolist())
    unused = [i for i in range(len(tokenizer)) if i not in used]
    assert embeddings.grad[unused].abs().sum() > 0, "the decoder's gradient reaches every embedding row"

    model.save(tmp_path / "model", tokenizer=tokenizer)
    heads = load_file(tmp_path / "model" / "heads.safetensors")
    assert sorted(k for k in heads if k.startswith("cc100.")) == [
        "cc100.bias", "cc100.dense.bias", "cc100.dense.weight", "cc100.layer_norm.bias", "cc100.layer_norm.weight"]
    spec = json.loads((tmp_path / "model" / "heads.json").read_text())
    assert spec["heads"]["cc100"] == ["mlm", len(tokenizer)]
    base = load_encoder(tiny).state_dict()
    saved = load_encoder(tmp_path / "model").state_dict()
    assert saved.keys() == base.keys(), "the saved encoder is the encoder, without lm_head weights"

    again = load_model(tmp_path / "model")
    for name, value in model.heads.state_dict().items():
        torch.testing.assert_close(again.heads.state_dict()[name], value)
    assert again.heads["cc100"].tied[0] is again.encoder.get_input_embeddings()


def test_head_is_fresh_without_lm_head_weights_and_checks_its_size(demo_dir, tokenizer, tmp_path, caplog):
    encoder = load_encoder(demo_dir / "tiny-xlmr")
    encoder.save_pretrained(tmp_path / "encoder")  # an encoder-only checkpoint, as our stages write them
    with caplog.at_level("INFO", logger="xstilts.model"):
        model = MultiTaskModel(load_encoder(tmp_path / "encoder"), {"cc100": ("mlm", None)}, {"cc100": "cc100"})
    assert "mlm head cc100: freshly initialised" in caplog.text
    assert torch.equal(model.heads["cc100"].bias, torch.zeros(len(tokenizer)))
    with pytest.raises(ValueError, match=f"head cc100: 7 outputs, but the encoder's vocabulary has {len(tokenizer)}"):
        MultiTaskModel(encoder, {"cc100": ("mlm", 7)}, {"cc100": "cc100"})


# ------------------------------------------------------------------------------------------------ CC-100 ---


def test_cc100_registry_facts():
    task = get_task("cc100")
    assert not task.is_target and task.splits == ("train",) and task.languages[0] == "en"
    assert set(task.languages) == set(get_task("panx").languages) and len(task.languages) == 40
    urls = {lang: task.sources_for(lang, "train")[0].url for lang in task.languages}
    assert urls["zh"] == "https://data.statmt.org/cc-100/zh-Hans.txt.xz"
    assert urls["my"] == "https://data.statmt.org/cc-100/my.txt.xz"  # Unicode Burmese, not my_zaw (Zawgyi)
    assert urls["he"] == "https://data.statmt.org/cc-100/he.txt.xz"
    assert all(url == f"https://data.statmt.org/cc-100/{lang}.txt.xz" for lang, url in urls.items() if lang != "zh")
    assert all(s.max_bytes == 32 * 2**20 and s.sha256 is None for s in task.raw)
    assert SOURCES["cc100_zh"].filename == "zh-Hans.txt.xz"


def test_prefix_sources_must_be_xz_and_positive():
    with pytest.raises(ValueError, match="source x: a prefix download .* needs an .xz file, not x.gz"):
        Source(name="x", filename="x.gz", url="https://example.org/x.gz", sha256=None, max_bytes=10)
    with pytest.raises(ValueError, match="source x: max_bytes must be positive, not 0"):
        Source(name="x", filename="x.xz", url="https://example.org/x.xz", sha256=None, max_bytes=0)


def cc100_text(demo_dir, lang):
    return lzma.decompress((demo_dir / "mirror" / f"cc100_{lang}" / f"{lang}.txt.xz").read_bytes()).decode()


def test_reader_yields_lines_without_document_separators(demo_dir):
    task = get_task("cc100")
    path = demo_dir / "mirror" / "cc100_ru" / "ru.txt.xz"
    records = list(task.read({"cc100_ru": path}, "ru", "train"))
    lines = cc100_text(demo_dir, "ru").split("\n")
    assert "" in lines, "the fixture separates documents with blank lines"
    assert [r["text"] for r in records] == [line for line in lines if line]
    assert all(r["id"] == f"cc100-ru-{lines.index(r['text']) + 1}" for r in records[:20])


def test_reader_on_a_truncated_prefix_keeps_only_complete_lines(demo_dir, tmp_path):
    task = get_task("cc100")
    whole = demo_dir / "mirror" / "cc100_de" / "de.txt.xz"
    full = {r["id"]: r["text"] for r in task.read({"cc100_de": whole}, "de", "train")}
    data = whole.read_bytes()
    counts = []
    for cut in (len(data) // 3, len(data) // 2, 3 * len(data) // 4, len(data) - 24):
        prefix = tmp_path / f"de-{cut}.txt.xz"
        prefix.write_bytes(data[:cut])
        records = list(task.read({"cc100_de": prefix}, "de", "train"))
        assert records and all(full[r["id"]] == r["text"] for r in records)
        counts.append(len(records))
    assert counts == sorted(counts) and counts[2] < len(full)
    assert counts[-1] == len(full), "a prefix missing only the xz index and footer holds every line"


def test_reader_keeps_the_last_line_of_a_whole_file_without_newline(tmp_path):
    path = tmp_path / "x.txt.xz"
    path.write_bytes(lzma.compress("first\n\nsecond\nlast".encode(), format=lzma.FORMAT_XZ))
    assert list(corpus_lines(path)) == [(1, "first"), (2, ""), (3, "second"), (4, "last")]
    # two concatenated streams (with xz's zero padding between them) read as one file
    path.write_bytes(lzma.compress(b"a\nb\n", format=lzma.FORMAT_XZ) + b"\0" * 4
                     + lzma.compress(b"c\n", format=lzma.FORMAT_XZ))
    assert list(corpus_lines(path)) == [(1, "a"), (2, "b"), (3, "c")]


def test_reader_names_the_file_of_corrupt_or_non_utf8_data(tmp_path):
    good = lzma.compress(("line\n" * 2000).encode(), format=lzma.FORMAT_XZ)
    corrupt = tmp_path / "corrupt.txt.xz"
    corrupt.write_bytes(good[:40] + bytes(b ^ 0xFF for b in good[40:80]) + good[80:])
    with pytest.raises(RawFormatError, match=r"corrupt.txt.xz:\d+: not a valid xz file or prefix of one"):
        list(corpus_lines(corrupt))
    html = tmp_path / "html.txt.xz"
    html.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(RawFormatError, match=r"html.txt.xz:1: not a valid xz file .*Input format not supported"):
        list(corpus_lines(html))
    latin1 = tmp_path / "latin1.txt.xz"
    latin1.write_bytes(lzma.compress("ok\nstra\xdfe\n".encode("latin-1"), format=lzma.FORMAT_XZ))
    with pytest.raises(RawFormatError, match=r"latin1.txt.xz:2: not UTF-8"):
        list(corpus_lines(latin1))
