"""XTREME metrics, written to give the same numbers as the official scorer.

Reference: google-research/xtreme `evaluate.py` with seqeval 1.2.2 (default,
conlleval-like mode) and its `third_party/evaluate_squad.py` (SQuAD v1.1) and
`third_party/evaluate_mlqa.py`. Every function returns percentages (0-100),
takes `(labels, predictions, language=None)` like the official metric
functions, and does its float arithmetic in the same order, so results are
equal bit for bit rather than merely close.

The code is our own and avoids the official scripts' per-token function calls
and repeated normalisation, which makes it several times faster.
"""

import operator
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

Scores = dict[str, float]


def accuracy(labels: Sequence[str], predictions: Sequence[str], language: str | None = None) -> Scores:
    """Share of predictions equal to their label, like evaluate.py `accuracy`."""
    _check_same_length(labels, predictions, "labels")
    correct = sum(map(operator.eq, labels, predictions))
    return {"accuracy": correct / len(predictions) * 100}


# ---------------------------------------------------------------------------
# Tagging: seqeval 1.2.2 default mode (no `mode="strict"`, no scheme).
#
# seqeval splits every tag into a one-character prefix and a type:
# prefix = tag[0]; type = tag[1:] up to its first '-' removed, or '_' if empty.
# So "B-PER" -> ("B", "PER"), "B-MISC-X" -> ("B", "MISC-X"), "O" -> ("O", "_"),
# and the UD tags are read the same way: "NOUN" -> ("N", "OUN"),
# "SYM" -> ("S", "YM") (a singleton prefix), "INTJ" -> ("I", "NTJ"),
# "X" and "_" -> ("X"/"_", "_") (the same type as "O").
# Chunk boundaries then follow seqeval's end_of_chunk/start_of_chunk rules
# (see `_transition`). Sentences are joined into one sequence with an "O"
# after each, so a chunk can run across a sentence boundary (e.g. "X" chunks,
# whose type "_" equals that of the separator). Scores are micro-averaged over
# the set of (type, start, end) chunks.
# ---------------------------------------------------------------------------

_END = 1
_START = 2


def _split_tag(tag: str) -> tuple[str, str]:
    """(prefix, type) of a tag as seqeval reads it in default mode."""
    rest = tag[1:]
    head, dash, tail = rest.partition("-")
    return tag[0], (tail if dash else head) or "_"


def _transition(prev: tuple[str, str], cur: tuple[str, str]) -> int:
    """Whether a chunk ends before and/or starts at `cur` (bit flags)."""
    prev_prefix, prev_type = prev
    prefix, type_ = cur
    type_changed = prev_type != type_
    end = (
        prev_prefix in "ES"
        or (prev_prefix in "BI" and prefix in "BSO")
        # '.' is exempt from the type-change rule in seqeval (a conlleval relic).
        or (prev_prefix not in "O." and type_changed)
    )
    start = (
        prefix in "BS"
        or (prefix in "EI" and prev_prefix in "ESO")
        or (prefix not in "O." and type_changed)
    )
    return (_END if end else 0) | (_START if start else 0)


class _Row(dict):
    """Transition flags from one previous tag to each next tag, filled lazily."""

    def __init__(self, prev: tuple[str, str]) -> None:
        super().__init__()
        self.prev = prev

    def __missing__(self, tag: str) -> int:
        if not isinstance(tag, str) or not tag:
            raise ValueError(f"tags must be non-empty strings, got {tag!r}")
        flags = self[tag] = _transition(self.prev, _split_tag(tag))
        return flags


class _Rows(dict):
    """One `_Row` per previous tag; the key None is the state before the first
    tag, which seqeval sets to prefix "O" with an empty type (not "_")."""

    def __missing__(self, tag: str | None) -> _Row:
        row = self[tag] = _Row(("O", "") if tag is None else _split_tag(tag))
        return row


def _chunks(sentences: Sequence[Sequence[str]], rows: _Rows) -> set[tuple[str, int, int]]:
    """Set of (type, start, end) over the sentences joined as seqeval joins them."""
    # seqeval appends an "O" to each sentence (and one more at the very end,
    # which can never close a chunk after an "O", so we leave it out).
    flat: list[str] = []
    for sentence in sentences:
        flat += sentence
        flat.append("O")
    found = set()
    row = rows[None]
    begin = 0
    for i, tag in enumerate(flat):
        flags = row[tag]
        if flags:
            if flags & _END:
                found.add((row.prev[1], begin, i - 1))
            if flags & _START:
                begin = i
        row = rows[tag]
    return found


def tagging_f1(
    labels: Sequence[Sequence[str]],
    predictions: Sequence[Sequence[str]],
    language: str | None = None,
) -> Scores:
    """Chunk F1/precision/recall as seqeval's f1_score/precision_score/recall_score.

    Used by evaluate.py for both PAN-X (NER) and UD-POS; zero division gives 0.
    """
    _check_tagging(labels, predictions)
    rows = _Rows()
    gold_chunks = _chunks(labels, rows)
    pred_chunks = _chunks(predictions, rows)
    correct = len(gold_chunks & pred_chunks)
    precision = correct / len(pred_chunks) if pred_chunks else 0.0
    recall = correct / len(gold_chunks) if gold_chunks else 0.0
    denominator = precision + recall
    # seqeval: (1 + beta**2) * p * r / (beta**2 * p + r) with beta = 1.
    f1 = 2 * precision * recall / denominator if denominator else 0.0
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


def _check_tagging(labels: Sequence[Sequence[str]], predictions: Sequence[Sequence[str]]) -> None:
    _check_same_length(labels, predictions, "sentences")
    if list(map(len, labels)) != list(map(len, predictions)):
        number, gold, pred = next(
            (n, g, p) for n, (g, p) in enumerate(zip(labels, predictions), start=1) if len(g) != len(p)
        )
        raise ValueError(f"sentence {number} has {len(gold)} gold tags but {len(pred)} predicted")


# ---------------------------------------------------------------------------
# Span QA: SQuAD v1.1 (XQuAD, TyDiQA-GoldP) and MLQA.
# ---------------------------------------------------------------------------

_ASCII_PUNCT = {ord(ch): None for ch in string.punctuation}
_EN_ARTICLES = re.compile(r"\b(a|an|the)\b")


def _squad_normalize(text: str) -> str:
    """evaluate_squad.py normalize_answer: lower, drop ASCII punctuation,
    replace English articles with a space, collapse whitespace (all languages)."""
    text = _EN_ARTICLES.sub(" ", text.lower().translate(_ASCII_PUNCT))
    return " ".join(text.split())


class _MlqaTable(dict):
    """str.translate table for MLQA normalisation, filled lazily per code point.

    It deletes evaluate_mlqa.py's PUNCT: every code point whose Unicode
    category starts with 'P', plus string.punctuation (which adds the ASCII
    symbols $+<=>^`|~). evaluate_mlqa.py scans all of Unicode for these at
    import; looking code points up as they occur gives the same membership.

    With `segment_cjk` it also does zh "mixed segmentation" in the same pass:
    each character in U+4E00..U+9FA5 (the official, slightly short CJK range)
    gets spaces around it, so it becomes a token of its own. The official
    segmenter also splits off PUNCT characters, but by then they are removed.
    """

    _ascii_punct = frozenset(map(ord, string.punctuation))

    def __init__(self, segment_cjk: bool) -> None:
        super().__init__()
        self.segment_cjk = segment_cjk

    def __missing__(self, code: int) -> int | str | None:
        value: int | str | None = code
        if self.segment_cjk and 0x4E00 <= code <= 0x9FA5:
            value = f" {chr(code)} "
        elif code in self._ascii_punct or unicodedata.category(chr(code)).startswith("P"):
            value = None
        self[code] = value
        return value


_MLQA_TABLE = _MlqaTable(segment_cjk=False)
_MLQA_ZH_TABLE = _MlqaTable(segment_cjk=True)


def _remove_words(words: str) -> Callable[[str], str]:
    """Replace each whole word in `words` by a space, as a `\\b(w1|w2)\\b` re.sub."""
    return partial(re.compile(r"\b(" + "|".join(words.split()) + r")\b").sub, " ")


def _remove_arabic_al(text: str) -> str:
    # The official pattern '\sال^|ال' can only match its second branch ('^'
    # after two characters never matches), so every "ال" becomes a space, even
    # inside words.
    return text.replace("ال", " ")


def _keep(text: str) -> str:
    return text


# evaluate_mlqa.py remove_articles; hi and zh have no articles. Any other
# language is an error there too.
_MLQA_ARTICLES: dict[str, Callable[[str], str]] = {
    "en": _remove_words("a an the"),
    "es": _remove_words("un una unos unas el la los las"),
    "de": _remove_words("ein eine einen einem eines einer der die das den dem des"),
    "vi": _remove_words("của là cái chiếc những"),
    "ar": _remove_arabic_al,
    "hi": _keep,
    "zh": _keep,
}


def _mlqa_normalizer(language: str) -> Callable[[str], str]:
    """evaluate_mlqa.py normalize_answer for one answer language: lower,
    delete PUNCT, remove articles, then split on whitespace (zh: mixed
    segmentation) and join the tokens with single spaces."""
    if language not in _MLQA_ARTICLES:
        raise ValueError(f"MLQA scoring has no rules for language {language!r}; known: {sorted(_MLQA_ARTICLES)}")
    remove_articles = _MLQA_ARTICLES[language]
    table = _MLQA_ZH_TABLE if language == "zh" else _MLQA_TABLE

    def normalize(text: str) -> str:
        # Punctuation removal and CJK spacing touch disjoint characters, so for
        # zh (no articles) one translate pass does both in the official order.
        return " ".join(remove_articles(text.lower().translate(table)).split())

    return normalize


def _token_f1(prediction: list[str], truth: list[str]) -> float:
    """SQuAD token F1 (multiset overlap of tokens); 0 if nothing overlaps."""
    unique = set(prediction)
    if len(unique) == len(prediction):
        # No repeated prediction token: the multiset overlap is the set overlap.
        same = len(unique.intersection(truth))
    else:
        same = sum((Counter(prediction) & Counter(truth)).values())
    if same == 0:
        return 0.0
    precision = 1.0 * same / len(prediction)
    recall = 1.0 * same / len(truth)
    return (2 * precision * recall) / (precision + recall)


def _qa_em_f1(
    dataset: Sequence[Mapping[str, Any]], predictions: Mapping[str, str], normalize: Callable[[str], str]
) -> Scores:
    """Shared loop of evaluate_squad.py / evaluate_mlqa.py `evaluate`.

    Every question in the dataset counts in the denominator; a question with no
    prediction scores 0. EM compares normalised strings, F1 normalised tokens,
    each taking the max over the gold answers. Note the official quirk: if both
    normalise to "" (e.g. "the" vs "a"), EM is 1 but F1 is 0.
    """
    exact_match = 0
    f1 = 0.0
    total = 0
    for question_em, question_f1 in _qa_question_scores(dataset, predictions, normalize):
        total += 1
        exact_match += question_em
        # an unanswered question adds 0.0, which leaves the sum unchanged, as the official `continue` does
        f1 += question_f1
    if total == 0:
        raise ValueError("the QA dataset has no questions")
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def _qa_question_scores(
    dataset: Sequence[Mapping[str, Any]], predictions: Mapping[str, str], normalize: Callable[[str], str]
) -> Iterator[tuple[int, float]]:
    """(EM, F1) of every question in dataset order, each the max over its gold answers; (0, 0.0) unanswered."""
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                if qa["id"] not in predictions:
                    yield 0, 0.0
                    continue
                if not qa["answers"]:
                    raise ValueError(f"question {qa['id']} has no gold answers")
                pred = normalize(predictions[qa["id"]])
                truths = {normalize(answer["text"]) for answer in qa["answers"]}
                if pred in truths:
                    # Identical non-empty token lists give F1 = 2*1*1/(1+1) = 1.0
                    # exactly, the maximum; empty ones give 0.
                    yield 1, (1.0 if pred else 0.0)
                else:
                    tokens = pred.split()
                    yield 0, max(_token_f1(tokens, truth.split()) for truth in truths)


def squad_em_f1(
    dataset: Sequence[Mapping[str, Any]], predictions: Mapping[str, str], language: str | None = None
) -> Scores:
    """SQuAD v1.1 EM/F1 as evaluate_squad.py; `dataset` is the file's "data" list.

    evaluate.py uses it for XQuAD and TyDiQA-GoldP in every language, so the
    English article removal and ASCII-only punctuation apply everywhere.
    """
    return _qa_em_f1(dataset, predictions, _squad_normalize)


def mlqa_em_f1(
    dataset: Sequence[Mapping[str, Any]], predictions: Mapping[str, str], language: str | None = None
) -> Scores:
    """MLQA EM/F1 as evaluate_mlqa.py, with `language` the answer language."""
    if language is None:
        raise ValueError("mlqa_em_f1 needs the answer language")
    return _qa_em_f1(dataset, predictions, _mlqa_normalizer(language))


def bucc_f1(labels: Sequence[str], predictions: Sequence[str], language: str | None = None) -> Scores:
    """BUCC F1 over the sets of "src\\ttgt" lines, like evaluate.py `bucc_f1`.

    Duplicates count once; with no correct pair all three scores are 0.
    evaluate.py compares `tuple(line.split('\\t'))`; two lines give equal
    tuples exactly when they are equal strings, so we compare the lines.
    """
    gold = set(labels)
    pred = set(predictions)
    correct = len(gold & pred)
    if correct == 0:
        return {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    precision = correct / len(pred)
    recall = correct / len(gold)
    f1 = 2 * precision * recall / (precision + recall)
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


def _check_same_length(labels: Sequence[Any], predictions: Sequence[Any], unit: str) -> None:
    if len(labels) != len(predictions):
        raise ValueError(f"{len(predictions)} predicted {unit} but {len(labels)} gold {unit}")
    if not predictions:
        raise ValueError(f"no {unit} to score")


METRICS: dict[str, Callable[..., Scores]] = {
    "accuracy": accuracy,
    "tagging_f1": tagging_f1,
    "squad_em_f1": squad_em_f1,
    "mlqa_em_f1": mlqa_em_f1,
    "bucc_f1": bucc_f1,
}


# ---------------------------------------------------------------------------
# Per-example sufficient statistics, for paired bootstrap resampling
# (xstilts.bootstrap). Each metric gets a function with its signature that
# returns one row of counts per resampling unit, in gold order, such that the
# column sums give the metric exactly (`scores_from_stats`, bit for bit):
#   accuracy  (correct, total) per example                      -> "accuracy"
#   F1        (correct, predicted, gold) chunks per sentence
#             (tagging) or pairs per source sentence (BUCC)     -> "f1"
#   QA        (exact_match, f1, questions) per question         -> "qa"
# ---------------------------------------------------------------------------

STAT_COLUMNS: dict[str, tuple[str, ...]] = {
    "accuracy": ("correct", "total"),
    "f1": ("correct", "predicted", "gold"),
    "qa": ("exact_match", "f1", "questions"),
}


@dataclass(frozen=True)
class ExampleStats:
    """Per-unit sufficient statistics of one metric on one language.

    `values` has one row per unit and the columns STAT_COLUMNS[kind]. Units
    are examples in gold order, except for BUCC, whose units are source
    sentences named by `ids` (gold sources first, then predicted-only ones),
    so that runs are paired by id rather than by position.
    """

    kind: str
    values: np.ndarray
    ids: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.kind not in STAT_COLUMNS:
            raise ValueError(f"unknown statistics kind {self.kind!r}; expected one of {sorted(STAT_COLUMNS)}")
        width = len(STAT_COLUMNS[self.kind])
        if self.values.ndim != 2 or self.values.shape[1] != width:
            raise ValueError(f"{self.kind} statistics need shape (units, {width}), got {self.values.shape}")
        if self.ids is not None and len(self.ids) != len(self.values):
            raise ValueError(f"{len(self.ids)} unit ids for {len(self.values)} rows of statistics")


def accuracy_stats(labels: Sequence[str], predictions: Sequence[str], language: str | None = None) -> ExampleStats:
    """(correct, 1) per example."""
    _check_same_length(labels, predictions, "labels")
    correct = np.fromiter(map(operator.eq, labels, predictions), dtype=np.int64, count=len(labels))
    return ExampleStats("accuracy", np.column_stack([correct, np.ones_like(correct)]))


def tagging_stats(
    labels: Sequence[Sequence[str]],
    predictions: Sequence[Sequence[str]],
    language: str | None = None,
) -> ExampleStats:
    """(correct, predicted, gold) chunks per sentence, a chunk counted in the sentence it starts in.

    The chunks are tagging_f1's (seqeval's, over the joined sentences), so a
    chunk running across a sentence boundary counts once, in its first
    sentence, and the sums are exactly tagging_f1's counts.
    """
    _check_tagging(labels, predictions)
    rows = _Rows()
    gold_chunks = _chunks(labels, rows)
    pred_chunks = _chunks(predictions, rows)
    # sentence i starts at offsets[i] in the joined sequence (each sentence plus its "O"); no chunk starts at
    # a separator "O", so the last offset at or before a chunk's start is its sentence
    offsets = np.cumsum([0] + [len(sentence) + 1 for sentence in labels[:-1]])

    def per_sentence(chunks: set[tuple[str, int, int]]) -> np.ndarray:
        starts = np.fromiter((start for _, start, _ in chunks), dtype=np.int64, count=len(chunks))
        return np.bincount(np.searchsorted(offsets, starts, side="right") - 1, minlength=len(labels))

    counts = [per_sentence(gold_chunks & pred_chunks), per_sentence(pred_chunks), per_sentence(gold_chunks)]
    return ExampleStats("f1", np.column_stack(counts))


def _qa_stats(
    dataset: Sequence[Mapping[str, Any]], predictions: Mapping[str, str], normalize: Callable[[str], str]
) -> ExampleStats:
    scores = list(_qa_question_scores(dataset, predictions, normalize))
    if not scores:
        raise ValueError("the QA dataset has no questions")
    values = np.array(scores, dtype=np.float64)
    return ExampleStats("qa", np.column_stack([values, np.ones(len(values))]))


def squad_stats(
    dataset: Sequence[Mapping[str, Any]], predictions: Mapping[str, str], language: str | None = None
) -> ExampleStats:
    """(exact_match, f1, 1) per question in dataset order, as squad_em_f1 scores it."""
    return _qa_stats(dataset, predictions, _squad_normalize)


def mlqa_stats(
    dataset: Sequence[Mapping[str, Any]], predictions: Mapping[str, str], language: str | None = None
) -> ExampleStats:
    """(exact_match, f1, 1) per question in dataset order, as mlqa_em_f1 scores it."""
    if language is None:
        raise ValueError("mlqa_stats needs the answer language")
    return _qa_stats(dataset, predictions, _mlqa_normalizer(language))


def _bucc_source(line: str) -> str:
    return line.split("\t", 1)[0]


def bucc_stats(labels: Sequence[str], predictions: Sequence[str], language: str | None = None) -> ExampleStats:
    """(correct, predicted, gold) distinct pairs per source sentence, as bucc_f1 counts them (sets of lines)."""
    gold, pred = set(labels), set(predictions)
    ids = tuple(dict.fromkeys(map(_bucc_source, [*labels, *predictions])))
    index = {source: i for i, source in enumerate(ids)}

    def per_source(lines: set[str]) -> np.ndarray:
        units = np.fromiter((index[_bucc_source(line)] for line in lines), dtype=np.int64, count=len(lines))
        return np.bincount(units, minlength=len(ids))

    values = np.column_stack([per_source(gold & pred), per_source(pred), per_source(gold)])
    return ExampleStats("f1", values, ids)


EXAMPLE_STATS: dict[str, Callable[..., ExampleStats]] = {
    "accuracy": accuracy_stats,
    "tagging_f1": tagging_stats,
    "squad_em_f1": squad_stats,
    "mlqa_em_f1": mlqa_stats,
    "bucc_f1": bucc_stats,
}


def _sequential_sum(column: np.ndarray) -> float:
    """Left-to-right float sum, the order of the metrics' `+=` loops (numpy sums pairwise)."""
    total = 0.0
    for value in column.tolist():
        total += value
    return total


def scores_from_stats(stats: ExampleStats) -> Scores:
    """The metric's scores from its per-unit statistics, with the metric's own arithmetic.

    Equal bit for bit to the metric on the same files: the counts are
    integers (any summation order is exact) and QA's F1 column is summed in
    question order, like `_qa_em_f1`.
    """
    if stats.kind == "qa":
        exact_match, f1, total = (_sequential_sum(stats.values[:, i]) for i in range(3))
        if total == 0:
            raise ValueError("QA statistics with no questions")
        return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}
    sums = [int(v) for v in stats.values.sum(axis=0)]
    if stats.kind == "accuracy":
        correct, total = sums
        if total == 0:
            raise ValueError("accuracy statistics with no examples")
        return {"accuracy": correct / total * 100}
    correct, predicted, gold = sums
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    denominator = precision + recall
    f1 = 2 * precision * recall / denominator if denominator else 0.0
    return {"f1": f1 * 100, "precision": precision * 100, "recall": recall * 100}


def headline(scores: Mapping[str, float]) -> float:
    """A language's headline score, the one evaluate.py averages into avg_metric: (EM + F1) / 2 for QA,
    else F1 if present, else accuracy."""
    if "exact_match" in scores:
        return (scores["exact_match"] + scores["f1"]) / 2
    return scores["f1"] if "f1" in scores else scores["accuracy"]


# ---------------------------------------------------------------------------
# Aggregation, as evaluate.py `evaluate()`.
# ---------------------------------------------------------------------------


def summarize_task(per_language: Mapping[str, Mapping[str, float]], qa: bool) -> dict[str, Any]:
    """One task's scores: {metric: {lang: score}}, `avg_<metric>`, `avg_metric`.

    Averages are `sum(values in language order) / count`, as evaluate.py, so
    pass languages in the official TASK2LANGS order to match it bit for bit.
    `avg_metric` is (avg_exact_match + avg_f1) / 2 for QA, else avg_f1 if
    present, else avg_accuracy.
    """
    summary: dict[str, Any] = {}
    for lang, scores in per_language.items():
        for metric, value in scores.items():
            summary.setdefault(metric, {})[lang] = value
    averages = {f"avg_{metric}": sum(by_lang.values()) / len(by_lang) for metric, by_lang in summary.items()}
    summary.update(averages)
    if qa:
        summary["avg_metric"] = (summary["avg_exact_match"] + summary["avg_f1"]) / 2
    elif "avg_f1" in summary:
        summary["avg_metric"] = summary["avg_f1"]
    elif "avg_accuracy" in summary:
        summary["avg_metric"] = summary["avg_accuracy"]
    return summary


def summarize_groups(
    task_avg_metric: Mapping[str, float], groups: Mapping[str, Sequence[str]], all_tasks: Sequence[str]
) -> dict[str, float]:
    """`all_task` (if every task has a score) then each complete group's mean.

    Group means sum in the group's task order, as evaluate.py. evaluate.py sums
    `all_task` over a Python set, whose order (and so the last bit of the sum)
    depends on PYTHONHASHSEED; we sum in `all_tasks` order.
    """
    overall = {}
    if all_tasks and all(task in task_avg_metric for task in all_tasks):
        overall["all_task"] = sum(task_avg_metric[task] for task in all_tasks) / len(all_tasks)
    for group, tasks in groups.items():
        if all(task in task_avg_metric for task in tasks):
            overall[group] = sum(task_avg_metric[task] for task in tasks) / len(tasks)
    return overall
