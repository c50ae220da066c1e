"""Tests for xstilts.metrics against hand-computed values, seqeval as an oracle
and scores recorded from the official XTREME QA scorers."""

import json
import random
import warnings
from pathlib import Path

import numpy as np
import pytest

from xstilts import metrics
from xstilts.metrics import (
    METRICS,
    accuracy,
    bucc_f1,
    mlqa_em_f1,
    squad_em_f1,
    summarize_groups,
    summarize_task,
    tagging_f1,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metrics"


def qa_dataset(*questions: tuple[str, list[str]]) -> list[dict]:
    """A SQuAD-format "data" list with one question per (id, answers)."""
    qas = [{"id": qid, "answers": [{"text": text} for text in answers]} for qid, answers in questions]
    return [{"title": "t", "paragraphs": [{"context": "c", "qas": qas}]}]


# --- accuracy -------------------------------------------------------------------


def test_accuracy_hand_computed():
    # 2 of 4 right -> 50%; 1 of 3 right -> (1/3) * 100.
    assert accuracy(["a", "b", "c", "a"], ["a", "b", "b", "c"]) == {"accuracy": 50.0}
    assert accuracy(["x", "y", "z"], ["x", "x", "x"])["accuracy"] == 1 / 3 * 100


def test_accuracy_rejects_length_mismatch_and_empty_input():
    with pytest.raises(ValueError, match="2 predicted labels but 3 gold"):
        accuracy(["a", "b", "c"], ["a", "b"])
    with pytest.raises(ValueError, match="no labels"):
        accuracy([], [])


# --- tagging: hand-computed cases ---------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "parts"),
    [
        ("B-PER", ("B", "PER")),
        ("I-LOC", ("I", "LOC")),
        ("B-MISC-X", ("B", "MISC-X")),  # only the first '-' after the prefix goes
        ("BPER", ("B", "PER")),  # no dash needed: tag[1:] is the type
        ("O", ("O", "_")),
        ("NOUN", ("N", "OUN")),
        ("SYM", ("S", "YM")),  # reads as a singleton "S-" chunk
        ("INTJ", ("I", "NTJ")),
        ("X", ("X", "_")),  # same type as "O"
        ("_", ("_", "_")),
        ("B-", ("B", "_")),
    ],
)
def test_tag_split_follows_seqeval_default_mode(tag, parts):
    assert metrics._split_tag(tag) == parts


def test_tagging_seqeval_docstring_example():
    # Gold chunks (positions in the joined sequence, "O" after each sentence):
    # MISC(2,3), MISC(4,4), PER(8,9); predicted: MISC(2,3), MISC(4,5), PER(8,9).
    # 2 correct of 3 each way: P = R = F1 = 2/3.
    gold = [["O", "O", "B-MISC", "I-MISC", "B-MISC", "O", "O"], ["B-PER", "I-PER", "O"]]
    pred = [["O", "O", "B-MISC", "I-MISC", "B-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    scores = tagging_f1(gold, pred)
    assert scores["precision"] == scores["recall"] == 2 / 3 * 100
    assert scores["f1"] == pytest.approx(200 / 3, abs=1e-12)


def test_tagging_i_after_o_starts_a_chunk():
    # I-PER after O opens a chunk just like B-PER: both give PER(1,2).
    assert tagging_f1([["O", "I-PER", "I-PER", "O"]], [["O", "B-PER", "I-PER", "O"]])["f1"] == 100.0


def test_tagging_type_switch_splits_chunks():
    # I-PER I-LOC is PER(0,0) + LOC(1,1), not one chunk. Prediction B-PER I-PER
    # is PER(0,1): nothing matches, so all scores are 0.
    assert tagging_f1([["I-PER", "I-LOC"]], [["B-PER", "I-PER"]]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def test_tagging_iobes_tags():
    # S-PER(0,0), B-LOC..E-LOC(1,2), and I-LOC after E- opens LOC(3,3).
    gold = [["S-PER", "B-LOC", "E-LOC", "I-LOC"]]
    # Predicted: S-PER(0,0), LOC(1,3) -> 1 of 2 correct, 1 of 3 gold.
    # P = 1/2, R = 1/3, F1 = 2 * 1/2 * 1/3 / (5/6) = 0.4.
    scores = tagging_f1(gold, [["S-PER", "B-LOC", "I-LOC", "E-LOC"]])
    assert scores["precision"] == 50.0
    assert scores["recall"] == pytest.approx(100 / 3, abs=1e-12)
    assert scores["f1"] == pytest.approx(40.0, abs=1e-12)


def test_tagging_pos_tags_merge_runs_of_the_same_tag():
    # seqeval reads NOUN as prefix N + type OUN, so NOUN NOUN is ONE chunk.
    # Gold {OUN(0,1), ERB(2,2)} vs predicted {OUN(0,0), ERB(1,2)}: 2 of 3 tags
    # agree, yet no chunk does, so F1 is 0.
    assert tagging_f1([["NOUN", "NOUN", "VERB"]], [["NOUN", "VERB", "VERB"]])["f1"] == 0.0


def test_tagging_x_at_sentence_end_is_never_a_chunk():
    # X has type "_", like the "O" that ends each sentence, so a trailing X is
    # never closed. Gold NOUN X -> {OUN(0,0)}; predicted NOUN VERB ->
    # {OUN(0,0), ERB(1,1)}. P = 1/2, R = 1, F1 = 2 * 1/2 * 1 / (3/2) = 2/3.
    scores = tagging_f1([["NOUN", "X"]], [["NOUN", "VERB"]])
    assert (scores["precision"], scores["recall"]) == (50.0, 100.0)
    assert scores["f1"] == pytest.approx(200 / 3, abs=1e-12)
    # An X followed by another type is closed: {_(0,0), OUN(1,1)} on both sides.
    assert tagging_f1([["X", "NOUN"]], [["X", "NOUN"]])["f1"] == 100.0


def test_tagging_tags_with_inner_dash():
    # B-MISC-X I-MISC-X is one chunk of type MISC-X; I-MISC-Y changes type.
    assert tagging_f1([["B-MISC-X", "I-MISC-X"]], [["B-MISC-X", "I-MISC-X"]])["f1"] == 100.0
    assert tagging_f1([["B-MISC-X", "I-MISC-X"]], [["B-MISC-X", "I-MISC-Y"]])["f1"] == 0.0


def test_tagging_zero_division_gives_zero():
    assert tagging_f1([["O", "O"]], [["O", "O"]]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def test_tagging_rejects_misaligned_input():
    with pytest.raises(ValueError, match="sentence 2 has 2 gold tags but 1 predicted"):
        tagging_f1([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="1 predicted sentences but 2 gold"):
        tagging_f1([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError, match="non-empty"):
        tagging_f1([["O", ""]], [["O", "O"]])


# --- tagging: seqeval as the oracle -------------------------------------------------

TAG_POOL = [
    # IOB/IOBES with types, including odd ones seqeval still parses
    "O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC",
    "B-MISC-X", "I-MISC-X", "BPER", "IPER", "O-PER", "B", "I", "E", "S", "B-", "-", "--",
    # UD POS tags and the "." prefix that seqeval exempts from type changes
    "NOUN", "VERB", "PROPN", "ADJ", "ADV", "ADP", "AUX", "DET", "NUM", "PART", "PRON",
    "PUNCT", "SCONJ", "CCONJ", "SYM", "INTJ", "X", "_", ".", ".PER",
]  # fmt: skip


@pytest.fixture
def seqeval():
    """seqeval's default-mode functions, the scorer evaluate.py calls."""
    return pytest.importorskip("seqeval.metrics.sequence_labeling")


def seqeval_scores(seqeval, gold, pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns on every non-IOB tag
        return {
            "f1": seqeval.f1_score(gold, pred) * 100,
            "precision": seqeval.precision_score(gold, pred) * 100,
            "recall": seqeval.recall_score(gold, pred) * 100,
        }


def random_tagging_case(rng: random.Random) -> tuple[list[list[str]], list[list[str]]]:
    vocab = rng.sample(TAG_POOL, rng.randint(1, 8))
    lengths = [rng.randint(0, 8) for _ in range(rng.randint(1, 6))]
    lengths[0] = max(lengths[0], 1)  # seqeval needs at least one tag
    gold = [[rng.choice(vocab) for _ in range(n)] for n in lengths]
    # Keep ~60% of gold tags so that some chunks match.
    pred = [[tag if rng.random() < 0.6 else rng.choice(vocab) for tag in sentence] for sentence in gold]
    return gold, pred


def test_tagging_equals_seqeval_on_random_sequences(seqeval):
    rng = random.Random(20240601)
    for _ in range(3000):
        gold, pred = random_tagging_case(rng)
        expected = seqeval_scores(seqeval, gold, pred)
        got = tagging_f1(gold, pred)
        for key in expected:
            assert got[key] == pytest.approx(expected[key], abs=1e-9), (gold, pred)


def test_chunks_equal_seqeval_get_entities(seqeval):
    # Stronger than equal scores: the same (type, start, end) set, positions included.
    rng = random.Random(7)
    for _ in range(2000):
        gold, _ = random_tagging_case(rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = set(seqeval.get_entities(gold))
        assert metrics._chunks(gold, metrics._Rows()) == expected, gold


# --- SQuAD ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The Cat!", "cat"),
        ("an apple, a day", "apple day"),
        ("  Théâtre\tde   la Ville ", "théâtre de la ville"),  # only English articles go
        ("A.B.C.", "abc"),  # "a.b.c." loses its dots before article removal
        ("«Paris»", "«paris»"),  # only ASCII punctuation is removed
        ("theory another", "theory another"),  # articles only as whole words
    ],
)
def test_squad_normalization(text, normalized):
    assert metrics._squad_normalize(text) == normalized


def test_squad_em_f1_hand_computed():
    data = qa_dataset(
        ("q1", ["Eiffel Tower"]),  # EM 1, F1 1
        ("q2", ["Paris", "France"]),  # [in, paris, france] vs [paris]: P 1/3, R 1, F1 1/2
        ("q3", ["Louvre"]),  # unanswered: 0, still counted
    )
    predictions = {"q1": "the Eiffel Tower", "q2": "in Paris, France", "unknown": "ignored"}
    # EM = 100 * 1 / 3; F1 = 100 * (1 + 0.5) / 3 = 50.
    assert squad_em_f1(data, predictions) == {"exact_match": 100.0 * 1 / 3, "f1": 50.0}


def test_squad_empty_normalized_answers_quirk():
    # "The" and "a" both normalise to "": EM counts it, F1 (no tokens) does not.
    assert squad_em_f1(qa_dataset(("q", ["a"])), {"q": "The"}) == {"exact_match": 100.0, "f1": 0.0}


def test_squad_f1_counts_repeated_tokens_as_a_multiset():
    # [x, y, y] vs [y, y, z]: overlap y*2 -> P = R = 2/3 -> F1 = 2/3.
    assert squad_em_f1(qa_dataset(("q", ["y y z"])), {"q": "x y y"})["f1"] == pytest.approx(200 / 3, abs=1e-12)
    # [y, z] vs [y, y]: overlap y*1 -> P = R = 1/2 -> F1 = 1/2.
    assert squad_em_f1(qa_dataset(("q", ["y y"])), {"q": "y z"})["f1"] == 50.0


def test_qa_requires_questions_and_answers():
    with pytest.raises(ValueError, match="no questions"):
        squad_em_f1([], {})
    with pytest.raises(ValueError, match="q has no gold answers"):
        squad_em_f1(qa_dataset(("q", [])), {"q": "x"})


# --- MLQA --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "normalized"),
    [
        ("zh", "北京大学。", "北 京 大 学"),  # each CJK character is a token
        ("zh", "GPT模型v2", "gpt 模 型 v2"),  # runs of other characters stay whole
        ("zh", "\u9fa5\u9fa6\u9fa6", "\u9fa5 \u9fa6\u9fa6"),  # U+9FA6 is past the official range
        ("zh", "𠀀𠀁", "𠀀𠀁"),  # so is CJK extension B
        ("zh", "the 中", "the 中"),  # no articles in zh
        ("en", "“An apple” — the end…", "apple end"),  # Unicode punctuation goes
        ("en", "€5 and $5", "€5 and 5"),  # $ is in string.punctuation, € (Sc) is not
        ("es", "¿El perro y la casa?", "perro y casa"),
        ("de", "Der Hund und die Katze", "hund und katze"),
        ("vi", "cái bàn của tôi", "bàn tôi"),
        ("ar", "الكتاب", "كتاب"),
        ("ar", "مالك", "م ك"),  # every "ال" goes, even inside a word
        ("hi", "the भारत।", "the भारत"),  # no article removal; danda is punctuation
    ],
)
def test_mlqa_normalization(language, text, normalized):
    assert metrics._mlqa_normalizer(language)(text) == normalized


def test_mlqa_zh_mixed_segmentation_f1():
    # [北, 京, 大, 学] vs [北, 京]: P = 2/4, R = 1, F1 = 2 * 1/2 * 1 / (3/2) = 2/3.
    # Under SQuAD rules each side is one token and F1 is 0.
    data, predictions = qa_dataset(("q", ["北京"])), {"q": "北京大学"}
    assert mlqa_em_f1(data, predictions, language="zh")["f1"] == pytest.approx(200 / 3, abs=1e-12)
    assert squad_em_f1(data, predictions)["f1"] == 0.0


def test_mlqa_needs_a_known_language():
    with pytest.raises(ValueError, match="language"):
        mlqa_em_f1(qa_dataset(("q", ["x"])), {"q": "x"})
    with pytest.raises(ValueError, match="'fr'"):
        mlqa_em_f1(qa_dataset(("q", ["x"])), {"q": "x"}, language="fr")


def test_mlqa_punctuation_set_matches_unicode_categories():
    # PUNCT = all code points of category P* plus string.punctuation.
    import string
    import sys
    import unicodedata

    table = metrics._MLQA_TABLE
    removed = {code for code in range(sys.maxunicode) if chr(code).translate(table) == ""}
    expected = {code for code in range(sys.maxunicode) if unicodedata.category(chr(code)).startswith("P")}
    assert removed == expected | set(map(ord, string.punctuation))


# --- recorded official scores --------------------------------------------------------


def official_cases():
    doc = json.loads((FIXTURES / "qa_official_cases.json").read_text(encoding="utf-8"))
    return [pytest.param(case, id=f"{case['scorer']}-{case['language']}-{n}") for n, case in enumerate(doc["cases"])]


@pytest.mark.parametrize("case", official_cases())
def test_qa_equals_recorded_official_scores(case):
    data = qa_dataset(("q", case["answers"]))
    metric = squad_em_f1 if case["scorer"] == "squad" else mlqa_em_f1
    got = metric(data, {"q": case["prediction"]}, language=case["language"])
    assert got["exact_match"] == case["exact_match"]
    assert got["f1"] == pytest.approx(case["f1"], abs=1e-9)


# --- BUCC ----------------------------------------------------------------------------------


def test_bucc_f1_hand_computed():
    gold = ["de-1\ten-1", "de-2\ten-2", "de-3\ten-3"]
    pred = ["de-1\ten-1", "de-2\ten-9", "de-1\ten-1"]  # duplicate counts once
    # 1 correct of 2 predicted, 3 gold: P = 1/2, R = 1/3, F1 = 2 * 1/2 * 1/3 / (5/6) = 0.4.
    scores = bucc_f1(gold, pred)
    assert scores["precision"] == 50.0
    assert scores["recall"] == pytest.approx(100 / 3, abs=1e-12)
    assert scores["f1"] == pytest.approx(40.0, abs=1e-12)


def test_bucc_f1_without_correct_pairs_is_zero():
    assert bucc_f1(["a\tb"], ["a\tc"]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


# --- registry and aggregation -----------------------------------------------------------


def test_registry_takes_a_uniform_signature():
    data = qa_dataset(("q", ["x"]))
    calls = {
        "accuracy": (["a"], ["a"]),
        "tagging_f1": ([["B-PER"]], [["B-PER"]]),
        "squad_em_f1": (data, {"q": "x"}),
        "mlqa_em_f1": (data, {"q": "x"}),
        "bucc_f1": (["a\tb"], ["a\tb"]),
    }
    assert set(METRICS) == set(calls)
    for name, (gold, pred) in calls.items():
        scores = METRICS[name](gold, pred, language="en")
        assert set(scores.values()) == {100.0}, name


def test_summarize_task_classification():
    summary = summarize_task({"de": {"accuracy": 80.0}, "en": {"accuracy": 90.0}}, qa=False)
    assert summary == {"accuracy": {"de": 80.0, "en": 90.0}, "avg_accuracy": 85.0, "avg_metric": 85.0}
    assert list(summary) == ["accuracy", "avg_accuracy", "avg_metric"]


def test_summarize_task_qa_and_tagging():
    qa = summarize_task({"en": {"exact_match": 60.0, "f1": 70.0}, "de": {"exact_match": 50.0, "f1": 64.0}}, qa=True)
    # avg EM 55, avg F1 67, avg_metric (55 + 67) / 2 = 61.
    assert (qa["avg_exact_match"], qa["avg_f1"], qa["avg_metric"]) == (55.0, 67.0, 61.0)
    tagging = summarize_task({"en": {"f1": 90.0, "precision": 80.0, "recall": 100.0}}, qa=False)
    assert tagging["avg_metric"] == 90.0


def test_summarize_task_sums_in_language_order():
    # (0.1 + 0.2) + 0.3 = 0.6000000000000001 in floats, so the mean is not 0.2.
    summary = summarize_task({"a": {"f1": 0.1}, "b": {"f1": 0.2}, "c": {"f1": 0.3}}, qa=False)
    assert summary["avg_f1"] == (0.1 + 0.2 + 0.3) / 3 != 0.2


def test_summarize_groups():
    groups = {"classification": ["pawsx", "xnli"], "qa": ["xquad", "mlqa"]}
    tasks = ["pawsx", "xnli", "xquad", "mlqa"]
    scores = {"pawsx": 80.0, "xnli": 70.0, "xquad": 60.0, "mlqa": 50.0}
    # all_task = (80 + 70 + 60 + 50) / 4 = 65; classification 75; qa 55.
    assert summarize_groups(scores, groups, tasks) == {"all_task": 65.0, "classification": 75.0, "qa": 55.0}
    del scores["mlqa"]
    assert summarize_groups(scores, groups, tasks) == {"classification": 75.0}


# --- per-example statistics ------------------------------------------------------------------

from xstilts.metrics import (  # noqa: E402
    EXAMPLE_STATS,
    ExampleStats,
    accuracy_stats,
    bucc_stats,
    headline,
    mlqa_stats,
    scores_from_stats,
    squad_stats,
    tagging_stats,
)


def test_accuracy_stats_per_example():
    stats = accuracy_stats(["a", "b", "c", "a"], ["a", "b", "b", "c"])
    assert stats.kind == "accuracy" and stats.ids is None
    assert stats.values.tolist() == [[1, 1], [1, 1], [0, 1], [0, 1]]
    assert scores_from_stats(stats) == accuracy(["a", "b", "c", "a"], ["a", "b", "b", "c"]) == {"accuracy": 50.0}


def test_tagging_stats_count_chunks_per_sentence():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O"], ["B-ORG", "O", "B-PER"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-LOC"], ["B-ORG", "O", "O"]]
    # sentence 1: gold PER, LOC; predicted PER, ORG; PER correct. Sentence 2: one predicted LOC.
    # sentence 3: gold ORG, PER; predicted ORG, correct.
    stats = tagging_stats(gold, pred)
    assert stats.values.tolist() == [[1, 2, 2], [0, 1, 0], [1, 1, 2]]
    assert scores_from_stats(stats) == tagging_f1(gold, pred)


def test_tagging_stats_count_a_chunk_across_sentences_once_where_it_starts():
    # "X" has the type "_" of the "O" seqeval puts after each sentence, so X + separator + X is ONE chunk
    # (0, 2) starting in sentence 1; sentence 2's own chunk is ERB.
    gold = [["X"], ["X", "VERB"]]
    pred = [["X"], ["NOUN", "VERB"]]
    stats = tagging_stats(gold, pred)
    assert stats.values[:, 2].tolist() == [1, 1]  # gold: _(0,2) in sentence 1, ERB(3,3) in sentence 2
    # predicted: the X chunk is never closed (an "O" does not end it, NOUN after the "O" does not either), so
    # only OUN(2,2) and ERB(3,3), both in sentence 2
    assert stats.values[:, 1].tolist() == [0, 2]
    assert scores_from_stats(stats) == tagging_f1(gold, pred)


def test_tagging_stats_empty_sentences_keep_their_row():
    gold = [[], ["B-PER"], [], ["B-LOC", "I-LOC"]]
    stats = tagging_stats(gold, gold)
    assert stats.values.tolist() == [[0, 0, 0], [1, 1, 1], [0, 0, 0], [1, 1, 1]]


def test_tagging_stats_equal_tagging_f1_on_random_sequences():
    rng = random.Random(99)
    for _ in range(2000):
        gold, pred = random_tagging_case(rng)
        stats = tagging_stats(gold, pred)
        assert len(stats.values) == len(gold)
        assert scores_from_stats(stats) == tagging_f1(gold, pred), (gold, pred)


def test_tagging_stats_reject_misaligned_input():
    with pytest.raises(ValueError, match="sentence 2 has 2 gold tags but 1 predicted"):
        tagging_stats([["O"], ["O", "O"]], [["O"], ["O"]])


def test_qa_stats_per_question_in_dataset_order():
    data = qa_dataset(("q1", ["Eiffel Tower"]), ("q2", ["Paris", "France"]), ("q3", ["Louvre"]),
                      ("q4", ["a"]))
    predictions = {"q1": "the Eiffel Tower", "q2": "in Paris, France", "q4": "The"}
    stats = squad_stats(data, predictions)
    # q3 unanswered: 0; q4 normalises to "" on both sides: EM 1, F1 0 (the official quirk)
    assert stats.values.tolist() == [[1, 1.0, 1], [0, 0.5, 1], [0, 0.0, 1], [1, 0.0, 1]]
    assert scores_from_stats(stats) == squad_em_f1(data, predictions)


@pytest.mark.parametrize("case", official_cases())
def test_qa_stats_equal_recorded_official_scores(case):
    data = qa_dataset(("q", case["answers"]))
    stats_of = squad_stats if case["scorer"] == "squad" else mlqa_stats
    metric = squad_em_f1 if case["scorer"] == "squad" else mlqa_em_f1
    predictions = {"q": case["prediction"]}
    scores = scores_from_stats(stats_of(data, predictions, language=case["language"]))
    assert scores == metric(data, predictions, language=case["language"])
    assert scores["exact_match"] == case["exact_match"]


def test_qa_stats_sum_f1_in_question_order_like_the_metric():
    # 0.1-ish F1 values whose float sum depends on the order: the statistics still give the metric's bits
    answers = [(f"q{i}", [" ".join(f"w{j}" for j in range(i + 2))]) for i in range(40)]
    data = qa_dataset(*answers)
    predictions = {qid: text.split()[0] + " extra words here" for qid, (text,) in answers}
    assert scores_from_stats(squad_stats(data, predictions)) == squad_em_f1(data, predictions)


def test_mlqa_stats_need_a_language():
    with pytest.raises(ValueError, match="language"):
        mlqa_stats(qa_dataset(("q", ["x"])), {"q": "x"})


def test_bucc_stats_per_source_sentence():
    gold = ["de-1\ten-1", "de-2\ten-2", "de-3\ten-3"]
    pred = ["de-1\ten-1", "de-2\ten-9", "de-1\ten-1", "de-7\ten-7", "de-1\ten-4"]  # duplicate counts once
    stats = bucc_stats(gold, pred)
    assert stats.ids == ("de-1", "de-2", "de-3", "de-7")  # gold sources first, then predicted-only ones
    assert stats.values.tolist() == [[1, 2, 1], [0, 1, 1], [0, 0, 1], [0, 1, 0]]
    assert scores_from_stats(stats) == bucc_f1(gold, pred)
    assert scores_from_stats(bucc_stats(["a\tb"], ["a\tc"])) == bucc_f1(["a\tb"], ["a\tc"])


def test_example_stats_registry_matches_the_metrics():
    assert set(EXAMPLE_STATS) == set(METRICS)


def test_example_stats_validate_their_shape():
    with pytest.raises(ValueError, match=r"need shape \(units, 3\)"):
        ExampleStats("f1", np.zeros((4, 2)))
    with pytest.raises(ValueError, match="unknown statistics kind 'bleu'"):
        ExampleStats("bleu", np.zeros((4, 2)))
    with pytest.raises(ValueError, match="2 unit ids for 3 rows"):
        ExampleStats("f1", np.zeros((3, 3)), ("a", "b"))


def test_headline_is_what_evaluate_py_averages():
    assert headline({"exact_match": 60.0, "f1": 70.0}) == 65.0
    assert headline({"f1": 80.0, "precision": 90.0, "recall": 70.0}) == 80.0
    assert headline({"accuracy": 75.0}) == 75.0


@pytest.fixture(scope="module")
def bench_data(tmp_path_factory):
    """bench/score_xtreme.py's synthetic prediction set: every XTREME task and language in the official layout."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[2] / "bench" / "score_xtreme.py"
    spec = importlib.util.spec_from_file_location("bench_score_xtreme_stats", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        root = tmp_path_factory.mktemp("bench-stats")
        module.ensure_data(root, seed=3, scale=0.003, regenerate=False)
        yield module, root
    finally:
        del sys.modules[spec.name]


def test_score_files_statistics_sum_to_the_reported_metric_for_every_task(bench_data, tmp_path):
    from xstilts.score import read_stats, score_run_task

    bench, root = bench_data
    for task, langs in bench.TASK2LANGS.items():
        out = tmp_path / task
        score_run_task(task, langs, root / "pred" / task, root / "gold" / task, out, {"model": "m", "arm": "a",
                                                                                       "seed": 1})
        for lang in langs:
            reported = json.loads((out / f"{lang}.json").read_text())["metrics"]
            stats = read_stats(out / f"{lang}.stats.npz")
            assert len(stats.values) > 0 and scores_from_stats(stats) == reported, (task, lang)
