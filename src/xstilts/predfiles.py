"""Prediction and gold files in the official XTREME layout.

`<dir>/<task>/test-<lang>.tsv` (json for QA), read the way google-research/xtreme
`evaluate.py` reads them (`read_label`, `read_tag`, `read_squad`), so that a file
scores the same here and under the official scorer. Writers produce files
those readers round-trip exactly, and write atomically (temp file in the same
directory, then `os.replace`), so a half-written file is never visible.
"""

import json
import logging
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

# File kinds and the metrics (xstilts.metrics.METRICS) that read them:
# "labels"  one label per line                                   -> accuracy
# "tags"    one tag per line, a blank line after each sentence   -> tagging_f1
# "qa"      JSON {qid: answer} predictions, SQuAD-format gold    -> squad_em_f1, mlqa_em_f1
# "pairs"   "src<TAB>tgt" lines                                  -> bucc_f1
KINDS = ("labels", "tags", "qa", "pairs")


class PredictionFileError(ValueError):
    """A prediction file that does not line up with its gold file."""


def layout_path(root: PathLike, task: str, lang: str, kind: str) -> Path:
    """`<root>/<task>/test-<lang>.json` for QA, `.tsv` otherwise (evaluate.py)."""
    if kind not in KINDS:
        raise ValueError(f"unknown file kind {kind!r}; expected one of {KINDS}")
    suffix = "json" if kind == "qa" else "tsv"
    return Path(root) / task / f"test-{lang}.{suffix}"


# --- writers -----------------------------------------------------------------


def _write_atomic(path: PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` via a temp file and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        # Mode "x" creates the file with the usual umask-derived permissions.
        with open(temp, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _line(value: str, what: str, allow_empty: bool = True) -> str:
    """`value` plus a newline, if it reads back unchanged as one line."""
    # Readers strip each line, so surrounding whitespace or a line break would
    # not survive the round trip (and a break would shift every later line).
    if not isinstance(value, str) or value != value.strip() or "\n" in value or "\r" in value:
        raise ValueError(f"{what} {value!r} cannot be written as one line (line break or surrounding whitespace)")
    if not value and not allow_empty:
        raise ValueError(f"empty {what} cannot be written: it would read back as a sentence break")
    return value + "\n"


def write_labels(path: PathLike, labels: Iterable[str]) -> None:
    """One label per line (XNLI, PAWS-X, Tatoeba)."""
    _write_atomic(path, "".join(_line(label, "label") for label in labels))


def write_tags(path: PathLike, sentences: Iterable[Sequence[str]]) -> None:
    """One tag per line and a blank line after every sentence (PAN-X, UD-POS).

    An empty sentence is a lone blank line, which `read_tags` (like
    evaluate.py `read_tag`) reads back as an empty sentence.
    """
    parts = []
    for sentence in sentences:
        parts.extend(_line(tag, "tag", allow_empty=False) for tag in sentence)
        parts.append("\n")
    _write_atomic(path, "".join(parts))


def write_qa_predictions(path: PathLike, predictions: Mapping[str, str]) -> None:
    """{question id: answer text} as JSON (XQuAD, MLQA, TyDiQA-GoldP)."""
    _write_atomic(path, json.dumps(dict(predictions), ensure_ascii=False) + "\n")


def write_squad_gold(path: PathLike, data: Sequence[Mapping[str, Any]]) -> None:
    """A SQuAD v1.1 file {"version": "1.1", "data": [...]} from its article list."""
    _write_atomic(path, json.dumps({"version": "1.1", "data": list(data)}, ensure_ascii=False) + "\n")


def write_pairs(path: PathLike, pairs: Iterable[tuple[str, str]]) -> None:
    """BUCC "src_id<TAB>tgt_id" lines."""
    lines = []
    for src, tgt in pairs:
        if "\t" in src or "\t" in tgt:
            raise ValueError(f"pair ids {src!r}, {tgt!r} must not contain tabs")
        lines.append(_line(f"{src}\t{tgt}", "pair"))
    _write_atomic(path, "".join(lines))


# --- readers -----------------------------------------------------------------


def _stripped_lines(path: PathLike) -> list[str]:
    """The file's lines as `for line in open(path)` yields them, stripped."""
    with open(path, encoding="utf-8") as f:
        # Text mode already turned \r\n and \r into \n; a final newline ends
        # the last line rather than starting an empty one.
        lines = f.read().split("\n")
    if lines[-1] == "":
        lines.pop()
    return list(map(str.strip, lines))


def read_labels(path: PathLike) -> list[str]:
    """Every line, stripped, as evaluate.py `read_label` (blank lines kept)."""
    return _stripped_lines(path)


def read_tags(path: PathLike) -> list[list[str]]:
    """Sentences of stripped tags, as evaluate.py `read_tag`.

    Each blank line ends a sentence, so consecutive blank lines give empty
    sentences; a last sentence without a trailing blank line is kept.
    """
    lines = _stripped_lines(path)
    sentences = []
    start = 0
    for end in [i for i, line in enumerate(lines) if not line]:
        sentences.append(lines[start:end])
        start = end + 1
    if start < len(lines):
        sentences.append(lines[start:])
    return sentences


def _read_json(path: PathLike) -> Any:
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as error:
            raise PredictionFileError(f"{path} is not valid JSON: {error}") from error


def read_qa_predictions(path: PathLike) -> dict[str, str]:
    """{question id: answer text} from a JSON prediction file."""
    predictions = _read_json(path)
    if not isinstance(predictions, dict):
        raise PredictionFileError(f"{path} should hold a JSON object {{id: answer}}, not {type(predictions).__name__}")
    for qid, answer in predictions.items():
        if not isinstance(answer, str):
            raise PredictionFileError(f"{path}: answer to {qid} is {answer!r}, not a string")
    return predictions


def read_squad_gold(path: PathLike) -> list[dict[str, Any]]:
    """The article list of a SQuAD-format file: its "data", or the file itself
    if it is a bare list (as evaluate.py `read_squad`)."""
    gold = _read_json(path)
    if isinstance(gold, list):
        return gold
    if isinstance(gold, dict) and "data" in gold:
        return gold["data"]
    raise PredictionFileError(f"{path} is neither a SQuAD file with \"data\" nor a list of articles")


def read_pairs(path: PathLike) -> list[str]:
    """BUCC "src\\ttgt" lines, stripped, as evaluate.py reads them (`read_label`);
    `metrics.bucc_f1` takes these lines."""
    return read_labels(path)


def _question_ids(data: Sequence[Mapping[str, Any]]) -> list[str]:
    return [qa["id"] for article in data for paragraph in article["paragraphs"] for qa in paragraph["qas"]]


def read_for_scoring(kind: str, pred_path: PathLike, gold_path: PathLike) -> tuple[Any, Any]:
    """(gold, predictions) of one kind, checked to line up, ready for the metric.

    Labels and tags must match the gold count (evaluate.py asserts the same),
    tags also per sentence. QA predictions may miss ids (they score 0, as in
    the official script; logged as a warning) and extra ids are ignored. BUCC
    pairs are sets, so any count is allowed.
    """
    if kind == "labels":
        gold, pred = read_labels(gold_path), read_labels(pred_path)
        _check_count(pred_path, gold_path, len(pred), len(gold), "lines")
    elif kind == "tags":
        gold, pred = read_tags(gold_path), read_tags(pred_path)
        _check_count(pred_path, gold_path, len(pred), len(gold), "sentences")
        pred_lengths, gold_lengths = list(map(len, pred)), list(map(len, gold))
        if pred_lengths != gold_lengths:
            number = next(n for n, (p, g) in enumerate(zip(pred_lengths, gold_lengths), start=1) if p != g)
            raise PredictionFileError(
                f"{pred_path} sentence {number} has {pred_lengths[number - 1]} tags"
                f" but gold {gold_path} sentence {number} has {gold_lengths[number - 1]}"
            )
    elif kind == "qa":
        gold, pred = read_squad_gold(gold_path), read_qa_predictions(pred_path)
        missing = [qid for qid in _question_ids(gold) if qid not in pred]
        if missing:
            log.warning("%s has no answer for %d questions of %s (scored 0), e.g. %s",
                        pred_path, len(missing), gold_path, ", ".join(missing[:3]))
    elif kind == "pairs":
        gold, pred = read_pairs(gold_path), read_pairs(pred_path)
    else:
        raise ValueError(f"unknown file kind {kind!r}; expected one of {KINDS}")
    return gold, pred


def _check_count(pred_path: PathLike, gold_path: PathLike, n_pred: int, n_gold: int, unit: str) -> None:
    if n_pred != n_gold:
        raise PredictionFileError(f"{pred_path} has {n_pred} {unit} but gold {gold_path} has {n_gold}")
