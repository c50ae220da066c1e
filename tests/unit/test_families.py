"""Tests for the task families (xstilts.families) with the tiny offline XLM-R tokenizer: featurization, decoding
of hand-made model outputs, gold files, record checks, and batch padding."""

import numpy as np
import pytest

from xstilts import predfiles
from xstilts.families import Classification, RecordError, Retrieval, SpanQA, Tagging, pad_features
from xstilts.families.tagging import _chunks

NLI = ("contradiction", "entailment", "neutral")
NER = ("B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O")


def one_hot(index, n, high=5.0):
    row = np.zeros(n, dtype=np.float32)
    row[index] = high
    return row


# -------------------------------------------------------------------------------- padding ---


def test_pad_features_sequence_labels_and_dropped_bookkeeping():
    features = [{"input_ids": [0, 5, 6, 2], "labels": [-100, 3, -100, -100], "example": 0, "word_positions": [1]},
                {"input_ids": [0, 7, 2], "labels": [-100, 1, -100], "example": 1, "word_positions": [1]}]
    batch = pad_features(features, pad_token_id=1)
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    np.testing.assert_array_equal(batch["input_ids"], [[0, 5, 6, 2], [0, 7, 2, 1]])
    np.testing.assert_array_equal(batch["attention_mask"], [[1, 1, 1, 1], [1, 1, 1, 0]])
    np.testing.assert_array_equal(batch["labels"], [[-100, 3, -100, -100], [-100, 1, -100, -100]])
    assert all(v.dtype == np.int64 for v in batch.values())


def test_pad_features_scalar_labels_and_span_positions():
    features = [{"input_ids": [0, 2], "labels": 2, "example": 0},
                {"input_ids": [0, 9, 9, 2], "labels": 0, "example": 1}]
    batch = pad_features(features, pad_token_id=7)
    np.testing.assert_array_equal(batch["labels"], [2, 0])
    np.testing.assert_array_equal(batch["input_ids"], [[0, 2, 7, 7], [0, 9, 9, 2]])
    spans = [{"input_ids": [0, 1, 2], "start_positions": 1, "end_positions": 2, "offsets": [None] * 3, "example": 0}]
    batch = pad_features(spans, pad_token_id=1)
    assert set(batch) == {"input_ids", "attention_mask", "start_positions", "end_positions"}
    np.testing.assert_array_equal(batch["start_positions"], [1])
    np.testing.assert_array_equal(batch["end_positions"], [2])


# ------------------------------------------------------------------------- classification ---


def test_classification_featurize_pairs(tokenizer):
    family = Classification(labels=NLI)
    records = [{"id": "a", "text_a": "the house", "text_b": "green river 1", "label": "neutral"},
               {"id": "b", "text_a": "das haus", "text_b": "grün 3", "label": "contradiction"}]
    features = family.featurize(records, tokenizer, {"max_length": 64}, train=True)
    assert [(f["labels"], f["example"]) for f in features] == [(2, 0), (0, 1)]
    expected = tokenizer(["the house"], ["green river 1"])["input_ids"][0]
    assert features[0]["input_ids"] == expected
    ids = features[0]["input_ids"]
    assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
    assert ids.count(tokenizer.sep_token_id) == 3  # <s> a </s></s> b </s>


def test_classification_truncates_to_max_length(tokenizer):
    family = Classification(labels=NLI)
    records = [{"id": "a", "text_a": " ".join(["house"] * 50), "text_b": " ".join(["river"] * 50),
                "label": "entailment"}]
    features = family.featurize(records, tokenizer, {"max_length": 20}, train=False)
    assert len(features[0]["input_ids"]) == 20


def test_classification_single_sentence(tokenizer):
    family = Classification(labels=("negative", "positive"), pair=False)
    records = [{"id": "a", "text_a": "the house", "text_b": None, "label": "positive"}]
    family.check_record(records[0], "r1")
    features = family.featurize(records, tokenizer, {"max_length": 16}, train=True)
    assert features[0]["input_ids"] == tokenizer(["the house"])["input_ids"][0]
    assert features[0]["labels"] == 1


def test_classification_decode_and_gold():
    family = Classification(labels=NLI)
    records = [{"id": str(i), "text_a": "x", "text_b": "y", "label": label}
               for i, label in enumerate(["neutral", "entailment", "contradiction"])]
    features = [{"input_ids": [0], "example": 2}, {"input_ids": [0], "example": 0}, {"input_ids": [0], "example": 1}]
    outputs = np.stack([one_hot(1, 3), one_hot(2, 3), one_hot(0, 3)])
    assert family.decode(records, features, outputs) == ["neutral", "contradiction", "entailment"]
    assert family.gold(records) == ["neutral", "entailment", "contradiction"]
    assert family.num_outputs() == 3


@pytest.mark.parametrize("record, message", [
    ({"id": "a", "text_a": "x", "label": "neutral"}, "r7: classification record lacks text_b"),
    ({"id": "a", "text_a": "x", "text_b": "y", "label": "maybe"},
     "r7: label 'maybe' is not one of contradiction, entailment, neutral"),
    ({"id": "a", "text_a": "x", "text_b": "", "label": "neutral"}, "r7: sentence-pair record has an empty text_b"),
])
def test_classification_check_record(record, message):
    with pytest.raises(RecordError) as e:
        Classification(labels=NLI).check_record(record, "r7")
    assert str(e.value) == message


def test_classification_write(tmp_path):
    Classification(labels=NLI).write(tmp_path / "p.tsv", ["neutral", "entailment"])
    assert predfiles.read_labels(tmp_path / "p.tsv") == ["neutral", "entailment"]


# -------------------------------------------------------------------------------- tagging ---


def test_tagging_first_subword_labels(tokenizer):
    family = Tagging(labels=NER)
    words = ["Anna", "xyzq", "", "walks", "Paris"]
    tags = ["B-PER", "O", "O", "O", "B-LOC"]
    features = family.featurize([{"id": "s", "tokens": words, "tags": tags}], tokenizer, {"max_length": 64},
                                train=True)
    assert len(features) == 1
    f = features[0]
    pieces = tokenizer(words, add_special_tokens=False)["input_ids"]
    assert len(pieces[1]) > 1 and pieces[2] == []  # a multi-piece word and a word with no pieces
    expected_ids = [tokenizer.cls_token_id]
    for ids in pieces:
        expected_ids += ids or [tokenizer.unk_token_id]
    expected_ids.append(tokenizer.sep_token_id)
    assert f["input_ids"] == expected_ids
    lengths = [max(1, len(p)) for p in pieces]
    positions = list(np.cumsum([1] + lengths[:-1]))
    assert f["word_positions"] == positions
    assert f["input_ids"][positions[2]] == tokenizer.unk_token_id
    labels = [-100] * len(expected_ids)
    for p, tag in zip(positions, tags):
        labels[p] = NER.index(tag)
    assert f["labels"] == labels
    assert f["example"] == 0


def test_tagging_prediction_features_have_no_labels(tokenizer):
    features = Tagging(labels=NER).featurize([{"id": "s", "tokens": ["a", "b"], "tags": ["O", "O"]}], tokenizer,
                                             {"max_length": 16}, train=False)
    assert "labels" not in features[0] and len(features[0]["word_positions"]) == 2


def test_tagging_long_sentence_split_into_chunks_and_merged_in_order(tokenizer):
    family = Tagging(labels=NER)
    vocabulary = "the house river green small xyzq city old Anna 1999 walks".split()
    words = [vocabulary[i % len(vocabulary)] for i in range(200)]
    tags = [NER[i % len(NER)] for i in range(200)]
    records = [{"id": "short", "tokens": ["the", "house"], "tags": ["O", "O"]},
               {"id": "long", "tokens": words, "tags": tags},
               {"id": "last", "tokens": ["Paris"], "tags": ["B-LOC"]}]
    features = family.featurize(records, tokenizer, {"max_length": 16}, train=True)
    assert [f["example"] for f in features][:1] == [0] and features[-1]["example"] == 2
    long = [f for f in features if f["example"] == 1]
    assert len(long) > 10
    assert [f["example"] for f in features] == sorted(f["example"] for f in features)
    assert all(len(f["input_ids"]) <= 16 for f in features)
    assert all(f["input_ids"][0] == tokenizer.cls_token_id and f["input_ids"][-1] == tokenizer.sep_token_id
               for f in features)
    assert sum(len(f["word_positions"]) for f in long) == 200
    # every chunk's labels are the tags of its consecutive words, in order
    chunk_tags = [NER[f["labels"][p]] for f in long for p in f["word_positions"]]
    assert chunk_tags == tags
    assert all(sum(label != -100 for label in f["labels"]) == len(f["word_positions"]) for f in long)

    # model outputs: at a word's first subword, the highest logit is that word's (global index % 7)
    width = max(len(f["input_ids"]) for f in features)
    outputs = np.zeros((len(features), width, len(NER)), dtype=np.float32)
    counters = [0, 0, 0]
    for row, f in enumerate(features):
        for p in f["word_positions"]:
            outputs[row, p] = one_hot(counters[f["example"]] % len(NER), len(NER))
            counters[f["example"]] += 1
    decoded = family.decode(records, features, outputs)
    assert [len(t) for t in decoded] == [2, 200, 1]
    assert decoded[1] == tags
    assert decoded[0] == [NER[0], NER[1]] and decoded[2] == [NER[0]]


def test_tagging_word_longer_than_the_budget_is_cut(tokenizer):
    word = "xyzqxyzqxyzq"
    assert len(tokenizer([word], add_special_tokens=False)["input_ids"][0]) > 6
    features = Tagging(labels=NER).featurize([{"id": "s", "tokens": ["the", word, "the"], "tags": ["O"] * 3}],
                                             tokenizer, {"max_length": 8}, train=True)
    assert all(len(f["input_ids"]) <= 8 for f in features)
    assert sum(len(f["word_positions"]) for f in features) == 3


def test_chunks():
    assert _chunks([1, 1, 1], 2) == [(0, 2), (2, 3)]
    assert _chunks([3, 1, 2, 2], 4) == [(0, 2), (2, 4)]
    assert _chunks([5], 4) == [(0, 1)]
    assert _chunks([], 4) == [(0, 0)]


def test_tagging_gold_and_write(tmp_path):
    family = Tagging(labels=NER)
    records = [{"id": "1", "tokens": ["a", "b"], "tags": ["B-PER", "O"]}, {"id": "2", "tokens": ["c"], "tags": ["O"]}]
    assert family.gold(records) == [["B-PER", "O"], ["O"]]
    family.write(tmp_path / "t.tsv", family.gold(records))
    assert predfiles.read_tags(tmp_path / "t.tsv") == [["B-PER", "O"], ["O"]]


@pytest.mark.parametrize("record, message", [
    ({"id": "a", "tokens": ["x"]}, "r: tagging record lacks tags"),
    ({"id": "a", "tokens": ["x", "y"], "tags": ["O"]}, "r: 2 tokens but 1 tags"),
    ({"id": "a", "tokens": [], "tags": []}, "r: empty sentence"),
    ({"id": "a", "tokens": ["x", "y"], "tags": ["B-MISC", "O"]},
     "r: unknown tags B-MISC (known: " + ", ".join(NER) + ")"),
])
def test_tagging_check_record(record, message):
    with pytest.raises(RecordError) as e:
        Tagging(labels=NER).check_record(record, "r")
    assert str(e.value) == message


# ---------------------------------------------------------------------------------- span QA ---


def qa_records():
    before = "the house river green small city old walks sees bread window music evening quickly table"
    after = "friend road winter light water book garden long child the house river green small city old"
    context = f"{before} 1999 {after} ."
    other = "das haus fluss 1848 grün klein stadt alt ."
    return [
        {"id": "q1", "title": "t1", "context": context, "question": "When did it happen ?",
         "answers": [{"text": "1999", "answer_start": len(before) + 1}]},
        {"id": "q2", "title": "t2", "context": other, "question": "Wann geschah es ?",
         "answers": [{"text": "1848", "answer_start": other.index("1848")}]},
        {"id": "q3", "title": "t1", "context": "Anna Paris 2001 .", "question": "When did it happen ?",
         "answers": [{"text": "Paris 2001", "answer_start": 5}]},
    ]


SPAN_SETTINGS = {"max_length": 32, "doc_stride": 8}


def test_span_qa_windows_and_answer_positions(tokenizer):
    records = qa_records()
    features = SpanQA().featurize(records, tokenizer, SPAN_SETTINGS, train=True)
    by_example = {i: [f for f in features if f["example"] == i] for i in range(3)}
    assert len(by_example[0]) > 2 and len(by_example[1]) == 1 and len(by_example[2]) == 1
    assert all(len(f["input_ids"]) <= 32 for f in features)
    for f in features:
        record = records[f["example"]]
        answer = record["answers"][0]
        assert len(f["offsets"]) == len(f["input_ids"])
        assert f["offsets"][0] is None  # <s> and the question map to no context characters
        s, e = f["start_positions"], f["end_positions"]
        context = [o for o in f["offsets"] if o is not None]
        answer_end = answer["answer_start"] + len(answer["text"])
        inside = context[0][0] <= answer["answer_start"] and context[-1][1] >= answer_end
        if inside:
            assert 0 < s <= e
            assert record["context"][f["offsets"][s][0]:f["offsets"][e][1]] == answer["text"]
        else:
            assert (s, e) == (0, 0)
    assert any(f["start_positions"] == 0 for f in by_example[0])
    assert sum(f["start_positions"] > 0 for f in by_example[0]) >= 1
    # overlapping windows: every context character is covered, windows in order
    starts = [next(o for o in f["offsets"] if o is not None)[0] for f in by_example[0]]
    assert starts == sorted(starts) and starts[0] == 0
    assert [o for o in by_example[0][-1]["offsets"] if o is not None][-1][1] == len(records[0]["context"])


def test_span_qa_prediction_features_have_no_positions(tokenizer):
    features = SpanQA().featurize(qa_records()[1:2], tokenizer, SPAN_SETTINGS, train=False)
    assert "start_positions" not in features[0]


def test_span_qa_doc_stride_must_be_under_half_the_window(tokenizer):
    with pytest.raises(ValueError, match="doc_stride 16 must be under half of max_length 32"):
        SpanQA().featurize(qa_records(), tokenizer, {"max_length": 32, "doc_stride": 16}, train=True)
    with pytest.raises(ValueError, match="doc_stride 128"):  # the family default
        SpanQA().featurize(qa_records(), tokenizer, {"max_length": 64}, train=True)


def test_span_qa_decode_best_span(tokenizer):
    records = qa_records()
    family = SpanQA()
    features = family.featurize(records, tokenizer, SPAN_SETTINGS, train=True)
    width = max(len(f["input_ids"]) for f in features)
    start = np.zeros((len(features), width), dtype=np.float32)
    end = np.zeros((len(features), width), dtype=np.float32)
    for row, f in enumerate(features):
        if f["start_positions"]:
            start[row, f["start_positions"]] = 8.0
            end[row, f["end_positions"]] = 8.0
    # a distractor: a high start logit on the question (not in the context) is never chosen
    start[:, 1] = 20.0
    predictions = family.decode(records, features, (start, end))
    assert predictions == {"q1": "1999", "q2": "1848", "q3": "Paris 2001"}
    assert list(predictions) == ["q1", "q2", "q3"]


def test_span_qa_gold_is_squad_format(tmp_path):
    records = qa_records()
    gold = SpanQA().gold(records)
    assert [a["title"] for a in gold] == ["t1", "t2"]
    assert [[q["id"] for p in a["paragraphs"] for q in p["qas"]] for a in gold] == [["q1", "q3"], ["q2"]]
    assert gold[0]["paragraphs"][1] == {"context": "Anna Paris 2001 .", "qas": [
        {"id": "q3", "question": "When did it happen ?", "answers": [{"text": "Paris 2001", "answer_start": 5}]}]}
    SpanQA().write(tmp_path / "gold.json", gold)
    assert predfiles.read_squad_gold(tmp_path / "gold.json") == gold
    SpanQA().write(tmp_path / "pred.json", {"q1": "1999"})
    assert predfiles.read_qa_predictions(tmp_path / "pred.json") == {"q1": "1999"}


def test_span_qa_check_record():
    record = qa_records()[2]
    SpanQA().check_record(record, "r")
    bad = {**record, "answers": [{"text": "Paris", "answer_start": 0}]}
    with pytest.raises(RecordError, match="^r: answer 'Paris' is not at character 0 of the context$"):
        SpanQA().check_record(bad, "r")
    with pytest.raises(RecordError, match="lacks answers"):
        SpanQA().check_record({"id": "x", "context": "c", "question": "q"}, "r")


# -------------------------------------------------------------------------------- retrieval ---


def retrieval_records():
    # records interleave sides; English (tgt) ids eng-0..2, source sentences point at their gold English id
    return [
        {"id": "eng-0", "side": "tgt", "text": "Anna sees the house 12"},
        {"id": "deu-1", "side": "src", "text": "Oslo fluss 7", "gold": "eng-1"},
        {"id": "eng-1", "side": "tgt", "text": "Oslo river 7"},
        {"id": "deu-2", "side": "src", "text": "Lima licht 9", "gold": "eng-2"},
        {"id": "deu-0", "side": "src", "text": "Anna sieht das haus 12", "gold": "eng-0"},
        {"id": "eng-2", "side": "tgt", "text": "Lima light 9"},
    ]


def test_retrieval_gold_is_per_english_sentence_index_of_its_source():
    # English order: eng-0, eng-1, eng-2; source order: deu-1, deu-2, deu-0
    assert Retrieval().gold(retrieval_records()) == ["2", "0", "1"]


def test_retrieval_gold_missing_source_is_an_error():
    records = [r for r in retrieval_records() if r["id"] != "deu-2"]
    with pytest.raises(RecordError, match="eng-2"):
        Retrieval().gold(records)


def test_retrieval_decode_queries_with_english_as_xtreme():
    records = retrieval_records()
    # rows in record order: eng-0, deu-1, eng-1, deu-2, deu-0, eng-2
    embeddings = np.array([
        [1.0, 0.1],    # eng-0 -> nearest source deu-0 (source index 2)
        [0.0, 1.0],    # deu-1
        [1.0, -0.2],   # eng-1 -> nearest source deu-0 as well (a hub)
        [-1.0, 1.0],   # deu-2
        [1.0, 0.0],    # deu-0
        [-0.9, 1.0],   # eng-2 -> nearest source deu-2 (source index 1)
    ])
    features = [{"input_ids": [0], "example": i} for i in range(len(records))]
    # XTREME's run_retrieval.py (and jiant) index the non-English side and query it with every English sentence;
    # the other direction (nearest English per source sentence) would give 2, 2, 0
    assert Retrieval().decode(records, features, embeddings) == ["2", "2", "1"]


def test_retrieval_perfect_embeddings_match_gold():
    records = retrieval_records()
    rng = np.random.default_rng(0)
    base = {f"eng-{i}": rng.standard_normal(8) for i in range(3)}
    embeddings = np.stack([base[r["id"]] if r["side"] == "tgt" else base[r["gold"]] + 0.01 for r in records])
    features = [{"input_ids": [0], "example": i} for i in range(len(records))]
    assert Retrieval().decode(records, features, embeddings) == Retrieval().gold(records)


def test_retrieval_featurize_and_check(tokenizer):
    records = retrieval_records()
    features = Retrieval().featurize(records, tokenizer, {"max_length": 6}, train=False)
    assert [f["example"] for f in features] == list(range(6))
    assert all(len(f["input_ids"]) <= 6 for f in features)
    assert features[2]["input_ids"] == tokenizer(["Oslo river 7"], truncation=True, max_length=6)["input_ids"][0]
    with pytest.raises(RecordError, match="side must be src or tgt, not 'left'"):
        Retrieval().check_record({"id": "x", "side": "left", "text": "t"}, "r")
    assert Retrieval().num_outputs() == 0 and Retrieval.head is None
