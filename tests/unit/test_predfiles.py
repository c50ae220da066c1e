"""Tests for xstilts.predfiles: official XTREME file layout, evaluate.py read
semantics, atomic writes and clear errors for misaligned prediction files."""

import json
import logging
import os
import re

import pytest

from xstilts import predfiles
from xstilts.metrics import METRICS
from xstilts.predfiles import (
    PredictionFileError,
    layout_path,
    read_for_scoring,
    read_labels,
    read_pairs,
    read_qa_predictions,
    read_squad_gold,
    read_tags,
    write_labels,
    write_pairs,
    write_qa_predictions,
    write_squad_gold,
    write_tags,
)

SQUAD_DATA = [
    {
        "title": "Paris",
        "paragraphs": [
            {
                "context": "Paris is the capital of France.",
                "qas": [
                    {"id": "q1", "question": "Capital?", "answers": [{"text": "Paris", "answer_start": 0}]},
                    {"id": "q2", "question": "Country?", "answers": [{"text": "France", "answer_start": 24}]},
                ],
            }
        ],
    }
]


def test_layout_path_matches_evaluate_py(tmp_path):
    assert layout_path(tmp_path, "xnli", "de", "labels") == tmp_path / "xnli" / "test-de.tsv"
    assert layout_path(tmp_path, "mlqa", "zh", "qa") == tmp_path / "mlqa" / "test-zh.json"
    with pytest.raises(ValueError, match="unknown file kind"):
        layout_path(tmp_path, "xnli", "de", "csv")


# --- round trips -----------------------------------------------------------------


def test_labels_round_trip(tmp_path):
    path = tmp_path / "xnli" / "test-de.tsv"  # parent is created
    labels = ["entailment", "neutral", "", "contradiction"]
    write_labels(path, labels)
    assert path.read_text(encoding="utf-8") == "entailment\nneutral\n\ncontradiction\n"
    assert read_labels(path) == labels


def test_tags_round_trip_including_empty_sentences(tmp_path):
    path = tmp_path / "test-en.tsv"
    sentences = [[], ["B-PER", "I-PER"], [], ["O"]]
    write_tags(path, sentences)
    # One tag per line and a blank line after every sentence.
    assert path.read_text(encoding="utf-8") == "\nB-PER\nI-PER\n\n\nO\n\n"
    assert read_tags(path) == sentences


def test_qa_predictions_round_trip_keeps_unicode(tmp_path):
    path = tmp_path / "test-zh.json"
    predictions = {"q1": "北京大学", "q2": ""}
    write_qa_predictions(path, predictions)
    assert "北京大学" in path.read_text(encoding="utf-8")  # ensure_ascii=False
    assert read_qa_predictions(path) == predictions


def test_squad_gold_round_trip_and_bare_list(tmp_path):
    path = tmp_path / "test-en.json"
    write_squad_gold(path, SQUAD_DATA)
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == "1.1"
    assert read_squad_gold(path) == SQUAD_DATA
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(SQUAD_DATA), encoding="utf-8")
    assert read_squad_gold(bare) == SQUAD_DATA


def test_pairs_round_trip(tmp_path):
    path = tmp_path / "test-de.tsv"
    write_pairs(path, [("de-000001", "en-000042"), ("de-000002", "en-000007")])
    assert path.read_text(encoding="utf-8") == "de-000001\ten-000042\nde-000002\ten-000007\n"
    assert read_pairs(path) == ["de-000001\ten-000042", "de-000002\ten-000007"]


# --- evaluate.py read semantics --------------------------------------------------------


def test_read_tags_like_evaluate_read_tag(tmp_path):
    path = tmp_path / "tags.tsv"
    # CRLF endings, a whitespace-only line (a break), two breaks in a row (an
    # empty sentence) and a last sentence without a final blank line.
    path.write_bytes(b"B-PER\r\n I-PER \r\n   \r\nO\n\n\nNOUN\nVERB")
    assert read_tags(path) == [["B-PER", "I-PER"], ["O"], [], ["NOUN", "VERB"]]


def test_read_labels_like_evaluate_read_label(tmp_path):
    path = tmp_path / "labels.tsv"
    path.write_bytes(b" a \r\n\nb\tc\n  ")
    # Each line stripped, blank lines kept, last line without newline kept.
    assert read_labels(path) == ["a", "", "b\tc", ""]
    path.write_bytes(b"")
    assert read_labels(path) == []


def test_writers_refuse_values_that_would_not_read_back(tmp_path):
    path = tmp_path / "out.tsv"
    with pytest.raises(ValueError, match="one line"):
        write_labels(path, ["ok", "two\nlines"])
    with pytest.raises(ValueError, match="one line"):
        write_labels(path, [" padded"])
    with pytest.raises(ValueError, match="empty tag"):
        write_tags(path, [["O", ""]])
    with pytest.raises(ValueError, match="tabs"):
        write_pairs(path, [("a\tb", "c")])
    assert not path.exists()


# --- atomic writes ----------------------------------------------------------------------


def test_atomic_write_leaves_no_temp_file(tmp_path):
    path = tmp_path / "test-de.tsv"
    write_labels(path, ["a"])
    write_labels(path, ["b"])  # overwrite
    assert os.listdir(tmp_path) == ["test-de.tsv"]
    assert read_labels(path) == ["b"]


def test_failed_write_keeps_old_file_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "test-de.tsv"
    write_labels(path, ["old"])

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(predfiles.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_labels(path, ["new"])
    assert os.listdir(tmp_path) == ["test-de.tsv"]
    assert read_labels(path) == ["old"]


# --- read_for_scoring ------------------------------------------------------------------------


def test_labels_with_wrong_line_count_name_both_files_and_counts(tmp_path):
    pred = layout_path(tmp_path / "pred", "xnli", "de", "labels")
    gold = layout_path(tmp_path / "gold", "xnli", "de", "labels")
    write_labels(pred, ["entailment"] * 4)
    write_labels(gold, ["entailment"] * 5)
    with pytest.raises(PredictionFileError) as error:
        read_for_scoring("labels", pred, gold)
    assert str(error.value) == f"{pred} has 4 lines but gold {gold} has 5"
    assert isinstance(error.value, ValueError)


def test_tags_with_wrong_sentence_count(tmp_path):
    pred, gold = tmp_path / "pred.tsv", tmp_path / "gold.tsv"
    write_tags(pred, [["O"]])
    write_tags(gold, [["O"], ["O"]])
    with pytest.raises(PredictionFileError, match=re.escape(f"{pred} has 1 sentences but gold {gold} has 2")):
        read_for_scoring("tags", pred, gold)


def test_tags_with_wrong_token_count_name_the_sentence(tmp_path):
    pred, gold = tmp_path / "pred.tsv", tmp_path / "gold.tsv"
    write_tags(pred, [["O"], ["B-PER", "I-PER", "O"], ["O"]])
    write_tags(gold, [["O"], ["B-PER", "I-PER"], ["O"]])
    with pytest.raises(PredictionFileError) as error:
        read_for_scoring("tags", pred, gold)
    assert str(error.value) == f"{pred} sentence 2 has 3 tags but gold {gold} sentence 2 has 2"


def test_tags_score_after_reading(tmp_path):
    pred, gold = tmp_path / "pred.tsv", tmp_path / "gold.tsv"
    write_tags(gold, [["B-PER", "I-PER", "O"], ["B-LOC"]])
    write_tags(pred, [["B-PER", "I-PER", "O"], ["B-ORG"]])
    # Gold {PER, LOC}, predicted {PER, ORG}: P = R = F1 = 1/2.
    gold_tags, pred_tags = read_for_scoring("tags", pred, gold)
    assert METRICS["tagging_f1"](gold_tags, pred_tags) == {"f1": 50.0, "precision": 50.0, "recall": 50.0}


def test_qa_missing_ids_warn_and_score_zero(tmp_path, caplog):
    pred, gold = tmp_path / "pred.json", tmp_path / "gold.json"
    write_squad_gold(gold, SQUAD_DATA)
    write_qa_predictions(pred, {"q1": "Paris", "extra": "ignored"})
    with caplog.at_level(logging.WARNING, logger="xstilts.predfiles"):
        data, predictions = read_for_scoring("qa", pred, gold)
    assert "no answer for 1 questions" in caplog.text and "q2" in caplog.text
    # q1 right, q2 unanswered: EM = F1 = 100 * 1 / 2.
    assert METRICS["squad_em_f1"](data, predictions) == {"exact_match": 50.0, "f1": 50.0}


def test_qa_prediction_file_must_map_ids_to_strings(tmp_path):
    path = tmp_path / "pred.json"
    path.write_text('["Paris"]', encoding="utf-8")
    with pytest.raises(PredictionFileError, match="JSON object"):
        read_qa_predictions(path)
    path.write_text('{"q1": null}', encoding="utf-8")
    with pytest.raises(PredictionFileError, match="q1"):
        read_qa_predictions(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(PredictionFileError, match="not valid JSON"):
        read_qa_predictions(path)


def test_pairs_have_no_count_check(tmp_path):
    pred, gold = tmp_path / "pred.tsv", tmp_path / "gold.tsv"
    write_pairs(gold, [("a", "b"), ("c", "d")])
    write_pairs(pred, [("a", "b")])
    gold_lines, pred_lines = read_for_scoring("pairs", pred, gold)
    # 1 of 1 predicted is right, 1 of 2 gold found: P 100, R 50, F1 2*1*0.5/1.5.
    scores = METRICS["bucc_f1"](gold_lines, pred_lines)
    assert (scores["precision"], scores["recall"]) == (100.0, 50.0)
    assert scores["f1"] == pytest.approx(200 / 3, abs=1e-12)


def test_missing_file_names_the_path(tmp_path):
    gold = tmp_path / "gold.tsv"
    write_labels(gold, ["a"])
    missing = tmp_path / "pred" / "xnli" / "test-de.tsv"
    with pytest.raises(FileNotFoundError, match="test-de.tsv"):
        read_for_scoring("labels", missing, gold)


def test_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match="unknown file kind"):
        read_for_scoring("images", tmp_path / "a", tmp_path / "b")
