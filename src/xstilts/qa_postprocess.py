"""SQuAD-style span decoding: start/end logits of tokenized windows -> answer strings (numpy only).

Behaves like ``postprocess_qa_predictions`` in Hugging Face's
``examples/pytorch/question-answering/utils_qa.py`` with ``version_2_with_negative=False``
(every question has an answer), used here for XQuAD, MLQA and TyDiQA-GoldP with XTREME's
settings (n_best_size=20, max_answer_length=30):

* for every feature (a window of the context produced with a doc stride), take the
  ``n_best_size`` highest start logits and the ``n_best_size`` highest end logits over the whole
  sequence, question and padding included;
* of these start x end pairs keep those whose tokens both map into the context (offset not
  None, index inside the feature's offset list), with ``end >= start`` and
  ``end - start + 1 <= max_answer_length`` tokens, and, if the feature carries
  ``token_is_max_context``, whose start token has its maximal context in this window;
* score = start logit + end logit; the best candidate over all features of the example wins and
  its text is ``context[offsets[start][0]:offsets[end][1]]``.

Tie-breaking (deterministic): logits are ranked by value, equal values by lower token index;
among candidates with equal scores the first one in Hugging Face's enumeration order wins
(earlier feature, then higher-ranked start, then higher-ranked end), as its stable ``sorted``
does. Hugging Face ranks with the unstable ``np.argsort``, so its order among *equal logits* is
unspecified; that is the only difference in the chosen span.

Deliberate deviation: an example without any valid candidate gets ``""``; Hugging Face
inserts the placeholder text ``"empty"``. Both score 0 against a non-empty gold answer.

The n-best list, probabilities and file output of the original are left out: only the best
answer is needed for EM/F1. XTREME's own ``third_party/run_squad.py`` decodes with the older
``transformers`` ``squad_metrics.compute_predictions_logits``: same n-best search and
constraints, but it always applies the max-context filter (supply ``token_is_max_context`` to
get that) and maps the span back through whitespace tokens (``get_final_text``) instead of
character offsets, which can differ in surrounding punctuation/spacing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

Offsets = Sequence[tuple[int, int] | Sequence[int] | None]


def postprocess_qa_predictions(
    examples: Sequence[Mapping[str, Any]],
    features: Sequence[Mapping[str, Any]],
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    n_best_size: int = 20,
    max_answer_length: int = 30,
) -> dict[str, str]:
    """Best answer text for every example, keyed by example id (in example order).

    Args:
        examples: dicts with ``"id"`` and ``"context"``.
        features: dicts with ``"example_id"`` and ``"offset_mapping"`` (one ``(start_char,
            end_char)`` pair per token, ``None`` for tokens outside the context; tokens beyond
            the end of the list count as ``None``). Optional ``"token_is_max_context"``:
            a mapping from token index (int or str, as in Hugging Face) or a sequence of bools.
        start_logits, end_logits: ``[n_features, seq_len]`` arrays, row i for ``features[i]``.
        n_best_size: number of top start and top end positions considered per feature.
        max_answer_length: maximum answer length in tokens.
    """
    start_logits = np.asarray(start_logits)
    end_logits = np.asarray(end_logits)
    if start_logits.ndim != 2 or start_logits.shape != end_logits.shape:
        raise ValueError(f"start/end logits must be equal 2-d arrays, got {start_logits.shape} "
                         f"and {end_logits.shape}")
    if len(start_logits) != len(features):
        raise ValueError(f"got {len(start_logits)} logit rows for {len(features)} features")

    n_top = min(n_best_size, start_logits.shape[1])
    top_starts = _top_positions(start_logits, n_top)
    top_ends = _top_positions(end_logits, n_top)
    # Scores of all n_top x n_top pairs per feature, row-major in enumeration order.
    scores = (np.take_along_axis(start_logits, top_starts, axis=1)[:, :, None]
              + np.take_along_axis(end_logits, top_ends, axis=1)[:, None, :])
    length = top_ends[:, None, :] - top_starts[:, :, None] + 1
    shape_ok = (length >= 1) & (length <= max_answer_length)

    known_ids = {example["id"] for example in examples}
    best: dict[str, tuple[float, int, int]] = {}  # example id -> (score, start char, end char)
    for row, feature in enumerate(features):
        example_id = feature["example_id"]
        if example_id not in known_ids:
            raise KeyError(f"feature {row} refers to unknown example id {example_id!r}")
        offsets = feature["offset_mapping"]
        start_ok, start_chars = _lookup_offsets(offsets, top_starts[row], 0)
        end_ok, end_chars = _lookup_offsets(offsets, top_ends[row], 1)
        if "token_is_max_context" in feature and feature["token_is_max_context"] is not None:
            start_ok &= _max_context(feature["token_is_max_context"], top_starts[row])
        valid = np.flatnonzero(shape_ok[row] & start_ok[:, None] & end_ok[None, :])
        if not len(valid):
            continue
        flat = valid[np.argmax(scores[row].ravel()[valid])]  # first maximum
        score = float(scores[row].ravel()[flat])
        i, j = divmod(int(flat), n_top)
        if example_id not in best or score > best[example_id][0]:  # strict: earlier feature wins
            best[example_id] = (score, start_chars[i], end_chars[j])

    answers = {}
    for example in examples:
        example_id = example["id"]
        if example_id in best:
            _, start_char, end_char = best[example_id]
            answers[example_id] = example["context"][start_char:end_char]
        else:
            answers[example_id] = ""
    return answers


def _top_positions(logits: np.ndarray, n: int) -> np.ndarray:
    """Per row, the positions of the n largest logits, descending, equal logits by lower index.

    Same result as ``np.argsort(-logits, axis=1, kind="stable")[:, :n]``, but only the rows
    with a tie at the n-th value are fully sorted; the others partition first (~10x faster).
    """
    negated = -logits
    nth = np.partition(negated, n - 1, axis=1)[:, n - 1 : n]
    selected = negated <= nth
    exact = selected.sum(axis=1) == n
    top = np.empty((len(logits), n), dtype=np.int64)
    # Rows with exactly n selected positions: they come out in index order, so a stable sort
    # by value breaks ties by lower index.
    positions = np.nonzero(selected[exact])[1].reshape(-1, n)
    order = np.argsort(np.take_along_axis(negated[exact], positions, axis=1), axis=1,
                       kind="stable")
    top[exact] = np.take_along_axis(positions, order, axis=1)
    top[~exact] = np.argsort(negated[~exact], axis=1, kind="stable")[:, :n]
    return top


def _lookup_offsets(offsets: Offsets, tokens: np.ndarray, side: int) -> tuple[np.ndarray, list[int]]:
    """Which tokens map into the context, and their start (side 0) or end (side 1) character."""
    ok = np.zeros(len(tokens), dtype=bool)
    chars = [0] * len(tokens)
    n_offsets = len(offsets)
    for pos, token in enumerate(tokens.tolist()):
        if token < n_offsets and offsets[token] is not None:
            ok[pos] = True
            chars[pos] = int(offsets[token][side])
    return ok, chars


def _max_context(token_is_max_context: Mapping[Any, bool] | Sequence[bool],
                 tokens: np.ndarray) -> np.ndarray:
    """Whether each token has its maximal context in this feature (missing: False, as in HF)."""
    if isinstance(token_is_max_context, Mapping):
        lookup = token_is_max_context
        return np.array([bool(lookup.get(t, lookup.get(str(t), False))) for t in tokens.tolist()],
                        dtype=bool)
    n = len(token_is_max_context)
    return np.array([t < n and bool(token_is_max_context[t]) for t in tokens.tolist()], dtype=bool)
