"""Sentence-retrieval scoring for BUCC 2018 and Tatoeba (XTREME protocol), numpy only.

Reproduces the scoring half of XTREME's ``third_party/utils_retrieve.py`` (``knnCPU``/``knnGPU``,
``mine_bitext``, ``bucc_optimize``, ``bucc_extract``, ``read_candidate2score``,
``similarity_search``) and the way ``third_party/evaluate_retrieval.py`` calls them. Embedding
extraction (layer, pooling) lives elsewhere; everything here takes float embeddings.

All similarities are cosine: rows are L2-normalised and compared by inner product, like XTREME's
``faiss.normalize_L2`` + ``IndexFlatIP`` (BUCC) / ``IndexFlatL2`` on normalised vectors (Tatoeba).

Exact k-NN without faiss
------------------------
The k-NN search is brute force (exact, like ``IndexFlatIP``), computed in blocks of query rows:
one float32 GEMM per block, then the top-k is selected without sorting or partitioning whole
rows (``np.argpartition`` over a block costs as much as the GEMM itself at dim 1024):

* rows (query -> key): the block's columns are split into groups; the k-th largest group
  maximum is a lower bound of each row's k-th best similarity, so only groups whose maximum
  reaches it (normally exactly k of them) are read;
* columns (key -> query): a running top-k per key is kept across blocks. The block's rows are
  split into groups, and only (row group, key) cells whose maximum reaches the key's current
  k-th best (and a lower bound of the block's own k-th best) are read: after the first few
  blocks, a small fraction of the keys.

So the selection makes two cheap reduction passes over each block; it runs on column slices in
a thread pool (numpy releases the GIL), so it stays small next to the multi-threaded GEMM.

BUCC mining needs the k-NN in both directions. :func:`mutual_topk_cosine` gets both from the
*same* similarity blocks (the forward k-NN is the row-wise top-k, the backward k-NN the
column-wise top-k of ``src @ tgt.T``), so mining costs about one GEMM of the corpus pair, the
same work as a single faiss ``IndexFlatIP`` search.

Ties between exactly equal similarities are broken towards the lower key index everywhere
(XTREME inherits faiss's order, which is not specified).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

KnnFn = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]
"""``knn(queries, keys, k) -> (sims [n_queries, k], idx [n_queries, k])``.

Receives L2-normalised float32 arrays and must return the k largest inner products per query in
descending order, e.g. with faiss::

    def faiss_knn(queries, keys, k):
        index = faiss.IndexFlatIP(keys.shape[1])
        index.add(keys)
        return index.search(queries, k)
"""

Candidate = tuple[float, str, str]
"""A mined pair: (margin score, source id, target id)."""

# Memory budget for one block of similarities (rows x n_keys float32) when no batch size is given.
_BLOCK_BYTES = 1 << 30
# More query rows per GEMM call gives better BLAS throughput; beyond ~512 it no longer improves.
_MAX_BLOCK_ROWS = 512
# Width of the column groups used to bound each row's k-th best similarity. Groups are strided
# (columns j, j+T, j+2T, ...): reducing over the middle axis of a (rows, width, T) view is about
# twice as fast in numpy as reducing contiguous runs.
_GROUP_WIDTH = 128
# Number of row groups per block used to prune the key -> query (column) search.
_ROW_GROUPS = 32
# Narrowest column slice handed to one selection thread.
_MIN_SLICE_COLUMNS = 4096

# XTREME's ``mine_bitext`` is called with its default ``threshold=0`` and writes a pair only if
# ``score > threshold``, so pairs with a margin <= 0 never reach the candidate file.
_MINE_MIN_SCORE = 0.0


def normalize(x: np.ndarray) -> np.ndarray:
    """Return a float32 copy of ``x`` with L2-normalised rows.

    All-zero rows stay zero, as with ``faiss.normalize_L2``. Unlike XTREME (which normalises the
    caller's arrays in place) the input is never modified.
    """
    out = np.array(x, dtype=np.float32, copy=True, order="C", ndmin=2)
    norms = np.sqrt(np.einsum("ij,ij->i", out, out))
    norms[norms == 0] = 1
    out /= norms[:, None]
    return out


def topk_cosine(
    queries: np.ndarray, keys: np.ndarray, k: int, batch_size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest keys of every query by cosine similarity.

    Returns ``(sims, idx)``, both ``[n_queries, k]``, sorted by similarity descending (ties:
    lower key index first). Equivalent to faiss ``IndexFlatIP`` on normalised vectors.
    ``batch_size`` is the number of query rows per block (memory is about
    ``batch_size * n_keys * 4`` bytes); by default it is chosen to stay within 1 GiB.
    """
    q, kk = normalize(queries), normalize(keys)
    sims, idx, _, _ = _blockwise_topk(q, kk, k, 0, batch_size)
    return sims, idx


def mutual_topk_cosine(
    src: np.ndarray, tgt: np.ndarray, k: int, batch_size: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """k-NN in both directions from a single pass over ``src @ tgt.T``.

    Returns ``(fwd_sims, fwd_idx, bwd_sims, bwd_idx)``: the k nearest targets of each source
    (``[n_src, k]``) and the k nearest sources of each target (``[n_tgt, k]``), each sorted by
    similarity descending. As in XTREME, each direction uses ``min(k, size of the searched
    side)`` neighbours. Identical to two :func:`topk_cosine` calls, at about half the cost.
    """
    x, y = normalize(src), normalize(tgt)
    return _blockwise_topk(x, y, min(k, len(y)), min(k, len(x)), batch_size)


def tatoeba_predictions(src_emb: np.ndarray, tgt_emb: np.ndarray) -> np.ndarray:
    """For every row of ``src_emb``, the index of its nearest row of ``tgt_emb`` (cosine).

    Direction: XTREME's ``similarity_search(x, y)`` adds ``x`` (the non-English sentences) to
    the index and queries it with ``y`` (English), i.e. it predicts, for every English sentence,
    the nearest non-English one. ``tatoeba_predictions(english_emb, other_emb)`` reproduces
    that; swap the arguments for the other direction. Accuracy is computed elsewhere.
    """
    _, idx = topk_cosine(src_emb, tgt_emb, 1)
    return idx[:, 0]


def mine_candidates(
    src_emb: np.ndarray,
    tgt_emb: np.ndarray,
    src_ids: Sequence[str],
    tgt_ids: Sequence[str],
    k: int = 4,
    *,
    src_texts: Sequence[str] | None = None,
    tgt_texts: Sequence[str] | None = None,
    knn: KnnFn | None = None,
    batch_size: int | None = None,
) -> list[Candidate]:
    """BUCC bitext mining as XTREME's ``mine_bitext`` defaults + ``read_candidate2score``.

    Settings reproduced: ``mode='mine'``, ``retrieval='max'``, ``margin='ratio'``,
    ``neighborhood=k`` (4), ``dist='cosine'``, ``threshold=0``, no embedding shift:

    1. L2-normalise; k-NN of every source among targets and of every target among sources
       (``min(k, n)`` neighbours).
    2. ``margin(x, y) = cos(x, y) / ((mean_knn_sim(x) + mean_knn_sim(y)) / 2)``, in float32
       like XTREME.
    3. Forward: each source's best target by margin among its k neighbours (first one on
       ties); backward: each target's best source likewise.
    4. ``retrieval='max'`` merge: all forward and backward pairs sorted by score descending,
       then greedily kept if neither the source nor the target sentence was kept before (a pair
       found in both directions therefore appears once). Only pairs with score > 0 are kept.
    5. Pairs are mapped to ids; a repeated (src_id, tgt_id) keeps its maximum score.

    If ``src_texts``/``tgt_texts`` (the sentences, one per embedding row) are given, XTREME's
    text handling is reproduced as well: mining runs over distinct sentences only
    (``text_load_unify``), and pairs whose sentence, stripped of surrounding whitespace, occurs
    on more than one line are dropped (``read_sent2id`` cannot map it to a single id). Without
    texts every row is its own sentence.

    Deliberate deviations (they can only matter where two scores tie or differ in the last
    float32 bit):

    * cos(x, y) in step 2 is the k-NN similarity itself; XTREME recomputes ``x.dot(y)``, which
      can differ in the last float32 bit.
    * Step 4 sorts stably (ties: forward pairs first, then by index); XTREME's
      ``np.argsort(-scores)`` has an unspecified tie order.
    * For repeated sentences the first row's embedding is used (XTREME: the last one; they are
      equal for deterministic encoders).

    ``knn`` replaces the built-in search (e.g. faiss, see :data:`KnnFn`); it is called once per
    direction on normalised arrays. Returns ``(score, src_id, tgt_id)`` sorted by score
    descending.
    """
    _check_rows(src_emb, src_ids, "src")
    _check_rows(tgt_emb, tgt_ids, "tgt")
    src_rows, src_keys = _unify_sentences(src_ids, src_texts)
    tgt_rows, tgt_keys = _unify_sentences(tgt_ids, tgt_texts)
    x = normalize(src_emb if src_rows is None else np.asarray(src_emb)[src_rows])
    y = normalize(tgt_emb if tgt_rows is None else np.asarray(tgt_emb)[tgt_rows])

    k_fwd, k_bwd = min(k, len(y)), min(k, len(x))
    if knn is None:
        fwd_sims, fwd_idx, bwd_sims, bwd_idx = _blockwise_topk(x, y, k_fwd, k_bwd, batch_size)
    else:
        fwd_sims, fwd_idx = knn(x, y, k_fwd)
        bwd_sims, bwd_idx = knn(y, x, k_bwd)
    fwd_sims = np.asarray(fwd_sims, dtype=np.float32)
    bwd_sims = np.asarray(bwd_sims, dtype=np.float32)
    fwd_idx, bwd_idx = np.asarray(fwd_idx), np.asarray(bwd_idx)

    fwd_mean, bwd_mean = fwd_sims.mean(axis=1), bwd_sims.mean(axis=1)
    fwd_best, fwd_score = _best_by_margin(fwd_sims, fwd_idx, fwd_mean, bwd_mean)
    bwd_best, bwd_score = _best_by_margin(bwd_sims, bwd_idx, bwd_mean, fwd_mean)

    pair_src = np.concatenate([np.arange(len(x)), bwd_best])
    pair_tgt = np.concatenate([fwd_best, np.arange(len(y))])
    scores = np.concatenate([fwd_score, bwd_score])
    kept = _greedy_one_to_one(pair_src, pair_tgt, scores, len(x), len(y))

    candidate2score: dict[tuple[str, str], float] = {}
    for pos in kept:
        score = float(scores[pos])
        src_id, tgt_id = src_keys[pair_src[pos]], tgt_keys[pair_tgt[pos]]
        # "not >" rather than "<=": a NaN margin (0 / 0) is dropped too, as in XTREME.
        if not score > _MINE_MIN_SCORE or src_id is None or tgt_id is None:
            continue
        key = (src_id, tgt_id)
        candidate2score[key] = max(score, candidate2score.get(key, score))
    # Stable sort: equal scores keep the merge order, as bucc_optimize's sorted() does.
    return sorted(
        ((score, src, tgt) for (src, tgt), score in candidate2score.items()),
        key=lambda cand: -cand[0],
    )


def best_threshold(candidates: Sequence[Candidate], gold_pairs: Iterable[tuple[str, str]]) -> float:
    """Margin threshold maximising F1 on gold pairs, as XTREME's ``bucc_optimize``.

    Candidates are walked in order of decreasing score (stable on ties); after the i-th one,
    precision = correct/i and recall = correct/|gold| (``gold_pairs`` as a set, including pairs
    that were never mined). At the first position with the highest F1 the threshold is the
    midpoint ``(score[i] + score[i+1]) / 2``; :func:`apply_threshold` keeps scores ``>=`` it.
    Returns 0.0 if no candidate is correct.

    Deviation: if the best F1 is reached at the last candidate, XTREME raises IndexError
    (``items[i + 1]``); here the threshold is that candidate's score, so every candidate is kept.
    Faithful quirk: on tied scores the midpoint equals the tied score, so applying the threshold
    keeps all candidates of that score, not only those counted in the walk.

    Tune on the dev ("sample") gold and apply the value to test (xtreme issue #60: test gold is
    not distributed). Ids must be the per-language ids of each side (xtreme issue #69).
    """
    gold = set(gold_pairs)
    ordered = sorted(candidates, key=lambda cand: -cand[0])
    if not gold or not ordered:
        return 0.0
    scores = np.array([cand[0] for cand in ordered], dtype=np.float64)
    correct = np.cumsum([(cand[1], cand[2]) in gold for cand in ordered])
    if correct[-1] == 0:
        return 0.0
    n_extracted = np.arange(1, len(ordered) + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = correct / n_extracted
        recall = correct / len(gold)
        f1 = np.where(correct > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1))  # first maximum, like bucc_optimize's strict ``f1 > best_f1``
    if best + 1 == len(scores):
        return float(scores[best])
    return float((scores[best] + scores[best + 1]) / 2)


def apply_threshold(candidates: Iterable[Candidate], threshold: float) -> list[tuple[str, str]]:
    """Predicted (src_id, tgt_id) pairs: candidates with ``score >= threshold`` (``bucc_extract``)."""
    return [(src, tgt) for score, src, tgt in candidates if score >= threshold]


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


def _check_rows(emb: np.ndarray, ids: Sequence[str], side: str) -> None:
    if np.ndim(emb) != 2 or len(emb) != len(ids):
        raise ValueError(f"{side}: need a 2-d embedding array with one row per id, got "
                         f"shape {np.shape(emb)} for {len(ids)} ids")


def _unify_sentences(
    ids: Sequence[str], texts: Sequence[str] | None
) -> tuple[np.ndarray | None, list[str | None]]:
    """Rows to mine over (None: all) and the id of each (None: not mappable to one id).

    Mirrors ``text_load_unify`` (distinct exact texts, first row kept) and ``read_sent2id``
    (a sentence whose stripped text occurs on several lines is dropped).
    """
    if texts is None:
        return None, list(ids)
    if len(texts) != len(ids):
        raise ValueError(f"got {len(texts)} texts for {len(ids)} ids")
    first_row: dict[str, int] = {}
    for row, text in enumerate(texts):
        first_row.setdefault(text, row)
    rows = np.fromiter(first_row.values(), dtype=np.int64, count=len(first_row))
    stripped_count = Counter(text.strip() for text in texts)
    keys = [ids[row] if stripped_count[texts[row].strip()] == 1 else None for row in rows]
    return rows, keys


def _best_by_margin(
    sims: np.ndarray, idx: np.ndarray, own_mean: np.ndarray, other_mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best neighbour by ratio margin and its score (``score_candidates`` + ``argmax``)."""
    denominator = (own_mean[:, None] + other_mean[idx]) / np.float32(2)
    margins = sims / denominator
    pos = margins.argmax(axis=1)  # first maximum in k-NN order, like XTREME
    rows = np.arange(len(sims))
    return idx[rows, pos], margins[rows, pos]


def _greedy_one_to_one(
    pair_src: np.ndarray, pair_tgt: np.ndarray, scores: np.ndarray, n_src: int, n_tgt: int
) -> list[int]:
    """Positions of the pairs kept by XTREME's ``retrieval='max'`` loop, best score first."""
    order = np.argsort(-scores, kind="stable")
    used_src = bytearray(n_src)
    used_tgt = bytearray(n_tgt)
    kept = []
    for pos, s, t in zip(order.tolist(), pair_src[order].tolist(), pair_tgt[order].tolist()):
        if not used_src[s] and not used_tgt[t]:
            used_src[s] = used_tgt[t] = 1
            kept.append(pos)
    return kept


def _block_rows(n_keys: int, batch_size: int | None) -> int:
    if batch_size is not None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        return batch_size
    return max(1, min(_MAX_BLOCK_ROWS, _BLOCK_BYTES // (4 * max(n_keys, 1))))


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # respects CPU binding (taskset, Slurm)
    except AttributeError:  # not available on macOS
        return os.cpu_count() or 1


def _column_slices(n_keys: int, k: int) -> list[slice]:
    """Split the key columns into one slice per CPU, each wide enough for the group bound."""
    min_width = max(_MIN_SLICE_COLUMNS, k * _GROUP_WIDTH)
    n_slices = max(1, min(_available_cpus(), n_keys // min_width))
    edges = np.linspace(0, n_keys, n_slices + 1).astype(int)
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def _blockwise_topk(
    queries: np.ndarray, keys: np.ndarray, k_rows: int, k_cols: int, batch_size: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Top-``k_rows`` keys per query and (if ``k_cols`` > 0) top-``k_cols`` queries per key.

    Inputs must be float32 with normalised rows. Exact: identical to sorting each row (column)
    of ``queries @ keys.T`` by (-similarity, index). Each block of query rows is one GEMM (BLAS
    threads); the selection then runs on column slices in a thread pool (numpy releases the GIL),
    so that it stays small next to the GEMM on many-core machines too.
    """
    n_q, n_k = len(queries), len(keys)
    if queries.ndim != 2 or queries.shape[1:] != keys.shape[1:]:
        raise ValueError(f"dimension mismatch: {queries.shape} vs {keys.shape}")
    if not 1 <= k_rows <= n_k or not 0 <= k_cols <= n_q:
        raise ValueError(f"k={k_rows}/{k_cols} out of range for {n_q} queries x {n_k} keys")

    row_sims = np.empty((n_q, k_rows), dtype=np.float32)
    row_idx = np.empty((n_q, k_rows), dtype=np.int64)
    col_state = _ColumnTopK(n_k, k_cols) if k_cols else None
    rows_per_block = _block_rows(n_k, batch_size)
    buffer = np.empty((min(rows_per_block, n_q), n_k), dtype=np.float32)
    slices = _column_slices(n_k, k_rows)

    with ThreadPoolExecutor(max_workers=len(slices)) as pool:
        for start in range(0, n_q, rows_per_block):
            stop = min(start + rows_per_block, n_q)
            block = buffer[: stop - start]
            np.matmul(queries[start:stop], keys.T, out=block)
            futures = [pool.submit(_scan_slice, block, columns, start, k_rows, col_state)
                       for columns in slices]
            parts = [future.result() for future in futures]
            sims = np.hstack([part[0] for part in parts])
            idx = np.hstack([part[1] for part in parts])
            # Slices are in column order and each is sorted, so a stable sort breaks ties by index.
            best = np.argsort(-sims, axis=1, kind="stable")[:, :k_rows]
            row_sims[start:stop] = np.take_along_axis(sims, best, axis=1)
            row_idx[start:stop] = np.take_along_axis(idx, best, axis=1)

    if col_state is None:
        return row_sims, row_idx, None, None
    return row_sims, row_idx, col_state.sims, col_state.idx


def _scan_slice(
    block: np.ndarray, columns: slice, row_offset: int, k_rows: int, col_state: _ColumnTopK | None
) -> tuple[np.ndarray, np.ndarray]:
    """Column-slice share of one block: update the key states, return the rows' top-k in it."""
    part = block[:, columns]
    if col_state is not None:
        col_state.update(part, row_offset, columns.start)
    sims, idx = _rowwise_topk(part, k_rows)
    return sims, idx + columns.start


def _topk_per_owner(
    owner: np.ndarray, vals: np.ndarray, idx: np.ndarray, n_owners: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (by value desc, then index asc) of candidate entries grouped by owner.

    Every owner in ``range(n_owners)`` must have at least k entries, and entries of one owner
    with equal values must come in increasing index order: then one stable sort on the
    composite key (owner, -value) gives the (owner, -value, index) order of a 3-key lexsort at
    a third of the cost.
    """
    order = np.argsort(_owner_desc_key(owner, vals), kind="stable")
    owner_sorted = owner[order]
    counts = np.bincount(owner_sorted, minlength=n_owners)
    rank = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    keep = rank < k
    out_vals = np.empty((n_owners, k), dtype=np.float32)
    out_idx = np.empty((n_owners, k), dtype=np.int64)
    out_vals[owner_sorted[keep], rank[keep]] = vals[order[keep]]
    out_idx[owner_sorted[keep], rank[keep]] = idx[order[keep]]
    return out_vals, out_idx


def _owner_desc_key(owner: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """uint64 keys ordering entries by owner ascending, then float32 value descending."""
    bits = (np.asarray(vals, dtype=np.float32) + np.float32(0)).view(np.uint32)  # -0.0 -> +0.0
    # IEEE-754 trick: flipping all bits of negatives and the sign bit of positives makes the
    # unsigned order follow the float order; the complement then sorts descending.
    ascending = np.where(bits >> 31, ~bits, bits | np.uint32(1 << 31))
    return (owner.astype(np.uint64) << np.uint64(32)) | (~ascending).astype(np.uint64)


def _rowwise_topk(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k per row of a (slice of a) similarity block; column indices are local.

    Columns ``[0, n_groups * width)`` form ``n_groups`` strided groups of ``width`` columns
    (group g = columns g, g + n_groups, ...). The k-th largest group maximum is reached by k
    distinct entries, so it is a lower bound of the row's k-th best value: only groups whose
    maximum reaches it, and tail columns that reach it, can hold a top-k entry.
    """
    n_rows, n_cols = block.shape
    width = _GROUP_WIDTH
    n_groups = n_cols // width
    if n_groups < k:  # too few groups for a bound: every entry is a candidate
        rows, cols = np.divmod(np.arange(block.size), n_cols)
        return _topk_per_owner(rows, block.ravel(), cols, n_rows, k)

    grouped = block[:, : n_groups * width].reshape(n_rows, width, n_groups)
    group_max = grouped.max(axis=1)
    bound = np.partition(group_max, n_groups - k, axis=1)[:, n_groups - k]

    pair_rows, pair_groups = np.nonzero(group_max >= bound[:, None])
    members = grouped[pair_rows, :, pair_groups]  # [n_pairs, width]
    # Member-major order: within a row, candidate columns come out in increasing order.
    hit_member, hit_pair = np.nonzero(members.T >= bound[pair_rows])
    rows = [pair_rows[hit_pair]]
    cols = [pair_groups[hit_pair] + hit_member * n_groups]
    vals = [members[hit_pair, hit_member]]

    tail = block[:, n_groups * width :]
    if tail.size:
        tail_rows, tail_cols = np.nonzero(tail >= bound[:, None])
        rows.append(tail_rows)
        cols.append(tail_cols + n_groups * width)
        vals.append(tail[tail_rows, tail_cols])
    return _topk_per_owner(np.concatenate(rows), np.concatenate(vals), np.concatenate(cols),
                           n_rows, k)


class _ColumnTopK:
    """Running top-k queries per key, fed blocks of query rows in row order.

    A block's rows are split into groups; only (group, key) cells whose group maximum reaches
    the key's bound are read. The bound is the larger of the key's current k-th best value and
    a lower bound of the block's own k-th best value in that column.
    """

    def __init__(self, n_keys: int, k: int) -> None:
        self.k = k
        # Placeholders rank below every real similarity and are gone once k rows were seen.
        self.sims = np.full((n_keys, k), -np.inf, dtype=np.float32)
        self.idx = np.full((n_keys, k), -1, dtype=np.int64)

    def update(self, block: np.ndarray, row_offset: int, key_offset: int) -> None:
        """Merge ``block`` (rows from ``row_offset``, keys from ``key_offset``) into the state.

        Calls for disjoint key ranges may run concurrently.
        """
        n_rows, n_keys = block.shape
        k = self.k
        state_sims = self.sims[key_offset : key_offset + n_keys]
        state_idx = self.idx[key_offset : key_offset + n_keys]
        n_groups = min(_ROW_GROUPS, n_rows)
        group_rows = n_rows // n_groups
        grouped = block[: n_groups * group_rows].reshape(n_groups, group_rows, n_keys)
        group_max = grouped.max(axis=1)
        bound = state_sims[:, k - 1].copy()  # current k-th best per key
        if n_groups >= k:
            # k disjoint sets of groups: the smallest of their maxima is reached by k distinct
            # entries, so it bounds the block's k-th best from below.
            sets = n_groups // k
            set_max = group_max[: k * sets].reshape(k, sets, n_keys).max(axis=1)
            np.maximum(bound, set_max.min(axis=0), out=bound)

        pair_groups, pair_keys = np.nonzero(group_max >= bound)
        members = grouped[pair_groups, :, pair_keys]  # [n_pairs, group_rows]
        hit_pair, hit_member = np.nonzero(members >= bound[pair_keys, None])
        keys = [pair_keys[hit_pair]]
        rows = [row_offset + pair_groups[hit_pair] * group_rows + hit_member]
        vals = [members[hit_pair, hit_member]]
        tail = block[n_groups * group_rows :]
        if len(tail):
            tail_rows, tail_keys = np.nonzero(tail >= bound)
            keys.append(tail_keys)
            rows.append(row_offset + n_groups * group_rows + tail_rows)
            vals.append(tail[tail_rows, tail_keys])
        hit_keys = np.concatenate(keys)
        if not len(hit_keys):
            return

        is_active = np.zeros(n_keys, dtype=bool)
        is_active[hit_keys] = True
        active = np.flatnonzero(is_active)
        n_active = len(active)
        position = np.cumsum(is_active) - 1
        owner = np.concatenate([np.repeat(np.arange(n_active), k), position[hit_keys]])
        all_vals = np.concatenate([state_sims[active].ravel(), *vals])
        all_idx = np.concatenate([state_idx[active].ravel(), *rows])
        state_sims[active], state_idx[active] = _topk_per_owner(owner, all_vals, all_idx,
                                                                n_active, k)
