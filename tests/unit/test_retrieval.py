"""Tests for xstilts.retrieval: blockwise k-NN, Tatoeba NN, BUCC margin mining and thresholds."""

import numpy as np
import pytest

from xstilts import retrieval
from xstilts.retrieval import (
    apply_threshold,
    best_threshold,
    mine_candidates,
    mutual_topk_cosine,
    normalize,
    tatoeba_predictions,
    topk_cosine,
)

A = np.float32(np.sqrt(0.5))  # cos 45 degrees


def brute_topk(queries, keys, k):
    """Full similarity matrix in float64, sorted by (-similarity, index)."""
    sims = normalize(queries).astype(np.float64) @ normalize(keys).astype(np.float64).T
    idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, idx, axis=1), idx


# ------------------------------------------------------------------------------------ k-NN ---


def test_normalize_unit_rows_zero_row_and_no_mutation():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, -2.0]])
    out = normalize(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0], [0.0, -1.0]], rtol=1e-6)
    assert x[0, 0] == 3.0


@pytest.mark.parametrize(
    "n_q, n_k, dim, k, batch_size",
    [
        (50, 300, 8, 4, None),  # fewer than k column groups: exhaustive path
        (97, 1000, 16, 4, 10),  # several blocks, a tail of columns after the groups
        (300, 2000, 32, 4, 64),
        (64, 1280, 8, 1, 7),  # k = 1, column count a multiple of the group width
        (20, 1500, 4, 9, 3),
    ],
)
def test_topk_matches_brute_force(n_q, n_k, dim, k, batch_size):
    rng = np.random.default_rng(n_q * n_k + k)
    queries = rng.standard_normal((n_q, dim), dtype=np.float32)
    keys = rng.standard_normal((n_k, dim), dtype=np.float32)
    sims, idx = topk_cosine(queries, keys, k, batch_size=batch_size)
    ref_sims, ref_idx = brute_topk(queries, keys, k)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(sims, ref_sims, atol=1e-5)


def exact_ties(rng, n, dim=16):
    """Unit vectors with entries +-1/4: every dot product is a multiple of 1/16, exact in
    float32 whatever the summation order, so there are many exact ties."""
    return rng.choice(np.array([-0.25, 0.25], dtype=np.float32), size=(n, dim))


@pytest.mark.parametrize("batch_size", [1, 5, 64, None])
def test_mutual_topk_matches_brute_force_with_exact_ties(batch_size):
    rng = np.random.default_rng(1)
    src, tgt = exact_ties(rng, 150), exact_ties(rng, 700)
    fwd_sims, fwd_idx, bwd_sims, bwd_idx = mutual_topk_cosine(src, tgt, 4, batch_size=batch_size)
    for (sims, idx), (queries, keys) in [((fwd_sims, fwd_idx), (src, tgt)),
                                        ((bwd_sims, bwd_idx), (tgt, src))]:
        ref_sims, ref_idx = brute_topk(queries, keys, 4)
        np.testing.assert_array_equal(idx, ref_idx)  # ties broken towards the lower index
        np.testing.assert_array_equal(sims, ref_sims)


def test_mutual_topk_random_and_k_clipped_to_corpus_size():
    rng = np.random.default_rng(2)
    src = rng.standard_normal((333, 24), dtype=np.float32)
    tgt = rng.standard_normal((1500, 24), dtype=np.float32)
    fwd_sims, fwd_idx, bwd_sims, bwd_idx = mutual_topk_cosine(src, tgt, 4, batch_size=50)
    np.testing.assert_array_equal(fwd_idx, brute_topk(src, tgt, 4)[1])
    np.testing.assert_array_equal(bwd_idx, brute_topk(tgt, src, 4)[1])
    np.testing.assert_allclose(bwd_sims, brute_topk(tgt, src, 4)[0], atol=1e-5)
    # Three sources: the backward direction uses min(k, 3) neighbours, like XTREME.
    _, fwd_idx, _, bwd_idx = mutual_topk_cosine(src[:3], tgt, 4)
    assert fwd_idx.shape == (3, 4) and bwd_idx.shape == (1500, 3)
    np.testing.assert_array_equal(bwd_idx, brute_topk(tgt, src[:3], 3)[1])


def test_column_slices_are_merged_exactly(monkeypatch):
    # The selection runs per column slice (one per CPU on large corpora); force three uneven
    # slices so that the cross-slice merge is exercised whatever the machine.
    monkeypatch.setattr(retrieval, "_column_slices",
                        lambda n_keys, k: [slice(0, 700), slice(700, 1301), slice(1301, n_keys)])
    rng = np.random.default_rng(6)
    src, tgt = exact_ties(rng, 90), exact_ties(rng, 2000)
    fwd_sims, fwd_idx, bwd_sims, bwd_idx = mutual_topk_cosine(src, tgt, 4, batch_size=32)
    np.testing.assert_array_equal(fwd_idx, brute_topk(src, tgt, 4)[1])
    np.testing.assert_array_equal(bwd_idx, brute_topk(tgt, src, 4)[1])
    x = rng.standard_normal((90, 16), dtype=np.float32)
    y = rng.standard_normal((2000, 16), dtype=np.float32)
    np.testing.assert_array_equal(topk_cosine(x, y, 4, batch_size=32)[1], brute_topk(x, y, 4)[1])


def test_topk_rejects_k_larger_than_keys():
    with pytest.raises(ValueError):
        topk_cosine(np.ones((2, 3)), np.ones((3, 3)), 4)


def test_tatoeba_nearest_neighbour():
    # Target 0 = x axis, 1 = y axis, 2 = 45 degrees between them.
    tgt = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    src = np.array([[5.0, 0.1],  # almost x: cos 0.9998 with 0, 0.7211 with 2
                    [1.0, 0.9],  # cos 0.9986 with 2
                    [-1.0, 3.0],  # cos 0.949 with 1
                    [0.0, 0.0]])  # zero vector: all cosines 0, lowest index wins
    np.testing.assert_array_equal(tatoeba_predictions(src, tgt), [0, 2, 1, 0])


# ---------------------------------------------------------------------------- BUCC mining ---


def test_mining_k2_by_hand():
    e1, e2, e3 = np.eye(3)
    src = np.stack([e1, e2, (e1 + e2), -e3])
    tgt = np.stack([e1, e2, e3])
    # cos(src, tgt) rows x0..x3, columns y0..y2:
    #   x0 [1, 0, 0]   x1 [0, 1, 0]   x2 [A, A, 0]   x3 [0, 0, -1]      (A = 0.70711)
    # 2-NN means (ties go to the lower index):
    #   x0: y0 1, y1 0 -> 0.5      x1: y1 1, y0 0 -> 0.5
    #   x2: y0 A, y1 A -> A        x3: y0 0, y1 0 -> 0
    #   y0: x0 1, x2 A -> (1 + A) / 2 = 0.85355      y1: x1 1, x2 A -> 0.85355
    #   y2: x0 0, x1 0 -> 0
    # forward margins, best of each source:
    #   x0 -> y0: 1 / ((0.5 + 0.85355) / 2) = 1.47759 (x0 -> y1: 0)
    #   x1 -> y1: 1.47759
    #   x2 -> y0: A / ((A + 0.85355) / 2) = 0.90616 (y1: the same; the first one is kept)
    #   x3 -> y0: 0 / (...) = 0
    # backward: y0 -> x0 1.47759, y1 -> x1 1.47759, y2 -> x0: 0 / ((0 + 0.5) / 2) = 0
    # max-merge by score: (x0, y0) and (x1, y1) come first from both directions (kept once);
    # (x2, y0), (x3, y0) and (x0, y2) then meet an already used sentence.
    out = mine_candidates(src, tgt, ["s0", "s1", "s2", "s3"], ["t0", "t1", "t2"], k=2)
    margin = 1 / ((0.5 + (1 + A) / 2) / 2)
    assert [(s, t) for _, s, t in out] == [("s0", "t0"), ("s1", "t1")]
    assert [score for score, _, _ in out] == pytest.approx([margin, margin], rel=1e-6)
    assert margin == pytest.approx(1.47759, rel=1e-5)


def test_mining_keeps_backward_only_pair_k1():
    z = np.sqrt(1 - 0.6**2 - 0.5**2)
    src = np.array([[0.6, 0.5, z], [1.0, 0.0, 0.0]])  # x0, x1
    tgt = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # y0, y1
    # cos: x0 [0.6, 0.5], x1 [1, 0].  With k = 1 the mean k-NN similarity is the best one:
    #   x0: 0.6 (y0), x1: 1 (y0), y0: 1 (x1), y1: 0.5 (x0)
    # forward:  x0 -> y0: 0.6 / ((0.6 + 1) / 2) = 0.75;   x1 -> y0: 1 / ((1 + 1) / 2) = 1
    # backward: y0 -> x1: 1;   y1 -> x0: 0.5 / ((0.5 + 0.6) / 2) = 0.90909
    # merge: (x1, y0) 1 [twice, kept once], (x0, y1) 0.909 [backward only, kept],
    #        (x0, y0) 0.75 [both sides used].
    out = mine_candidates(src, tgt, ["x0", "x1"], ["y0", "y1"], k=1)
    assert [(s, t) for _, s, t in out] == [("x1", "y0"), ("x0", "y1")]
    assert [score for score, _, _ in out] == pytest.approx([1.0, 0.5 / 0.55], rel=1e-6)


def xtreme_mine_reference(x, y, k):
    """Loop-for-loop port of XTREME's mine_bitext (mode='mine', retrieval='max',
    margin='ratio', threshold=0) with brute-force k-NN; returns (score, src_row, tgt_row)."""
    x, y = normalize(x), normalize(y)
    kx, ky = min(len(y), k), min(len(x), k)
    sims = x @ y.T
    x2y_ind = np.argsort(-sims, axis=1, kind="stable")[:, :kx]
    y2x_ind = np.argsort(-sims.T, axis=1, kind="stable")[:, :ky]
    x2y_mean = np.take_along_axis(sims, x2y_ind, axis=1).mean(axis=1)
    y2x_mean = np.take_along_axis(sims.T, y2x_ind, axis=1).mean(axis=1)

    def score_candidates(a, b, inds, fwd_mean, bwd_mean):
        scores = np.zeros(inds.shape)
        for i in range(scores.shape[0]):
            for j in range(scores.shape[1]):
                c = inds[i, j]
                scores[i, j] = a[i].dot(b[c]) / ((fwd_mean[i] + bwd_mean[c]) / 2)
        return scores

    fwd_scores = score_candidates(x, y, x2y_ind, x2y_mean, y2x_mean)
    bwd_scores = score_candidates(y, x, y2x_ind, y2x_mean, x2y_mean)
    fwd_best = x2y_ind[np.arange(len(x)), fwd_scores.argmax(axis=1)]
    bwd_best = y2x_ind[np.arange(len(y)), bwd_scores.argmax(axis=1)]
    indices = np.stack((np.concatenate((np.arange(len(x)), bwd_best)),
                        np.concatenate((fwd_best, np.arange(len(y))))), axis=1)
    scores = np.concatenate((fwd_scores.max(axis=1), bwd_scores.max(axis=1)))
    seen_src, seen_trg, out = set(), set(), []
    for i in np.argsort(-scores, kind="stable"):
        src_ind, trg_ind = indices[i]
        if src_ind not in seen_src and trg_ind not in seen_trg:
            seen_src.add(src_ind)
            seen_trg.add(trg_ind)
            if scores[i] > 0:
                out.append((scores[i], src_ind, trg_ind))
    return out


@pytest.mark.parametrize("n_src, n_tgt, dim, seed", [(40, 55, 3, 0), (300, 260, 8, 1),
                                                     (3, 20, 4, 2)])
def test_mining_matches_xtreme_loops(n_src, n_tgt, dim, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_src, dim), dtype=np.float32)
    y = rng.standard_normal((n_tgt, dim), dtype=np.float32)
    src_ids = [f"s{i}" for i in range(n_src)]
    tgt_ids = [f"t{i}" for i in range(n_tgt)]
    ref = xtreme_mine_reference(x, y, 4)
    out = mine_candidates(x, y, src_ids, tgt_ids, batch_size=17)
    assert [(s, t) for _, s, t in out] == [(src_ids[i], tgt_ids[j]) for _, i, j in ref]
    assert [score for score, _, _ in out] == pytest.approx([s for s, _, _ in ref], rel=1e-5)


def test_mining_drops_non_positive_margins():
    src = np.array([[1.0, 0.0], [0.8, 0.6]])  # x0, x1
    tgt = np.array([[1.0, 0.0], [-1.0, 0.2]])  # y0, y1 (y1 points away from every source)
    # cos: x0 [1, -0.98058], x1 [0.8, -0.66679]   (|y1| = sqrt(1.04) = 1.01980)
    # k = 1 means: x0 1 (y0), x1 0.8 (y0), y0 1 (x0), y1 -0.66679 (x1)
    # forward:  x0 -> y0: 1 / ((1 + 1) / 2) = 1;   x1 -> y0: 0.8 / ((0.8 + 1) / 2) = 0.88889
    # backward: y0 -> x0: 1;   y1 -> x1: -0.66679 / ((-0.66679 + 0.8) / 2) = -10.0116
    # merge: (x0, y0) kept; (x1, y0) blocked by y0; (x1, y1) has two unused sentences but a
    # margin <= 0, which XTREME's mine_bitext (threshold=0, "score > threshold") never writes.
    out = mine_candidates(src, tgt, ["x0", "x1"], ["y0", "y1"], k=1)
    assert out == [(pytest.approx(1.0), "x0", "y0")]


def test_custom_knn_is_used_for_both_directions():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((30, 5), dtype=np.float32)
    y = rng.standard_normal((45, 5), dtype=np.float32)
    calls = []

    def knn(queries, keys, k):
        calls.append((len(queries), len(keys), k))
        return brute_topk(queries, keys, k)

    ids_x, ids_y = [str(i) for i in range(30)], [str(i) for i in range(45)]
    with_callable = mine_candidates(x, y, ids_x, ids_y, knn=knn)
    assert calls == [(30, 45, 4), (45, 30, 4)]
    default = mine_candidates(x, y, ids_x, ids_y)
    assert [c[1:] for c in with_callable] == [c[1:] for c in default]
    assert [c[0] for c in with_callable] == pytest.approx([c[0] for c in default], rel=1e-5)


def test_mining_with_texts_unifies_and_drops_repeated_sentences():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((30, 6), dtype=np.float32)
    y = rng.standard_normal((25, 6), dtype=np.float32)
    src_texts = [f"src {i}" for i in range(30)]
    tgt_texts = [f"tgt {i}" for i in range(25)]
    # Source row 29 repeats row 3 exactly (same sentence, other id): mined once, then dropped
    # because its text maps to two ids. Target row 24 is target row 7 plus a trailing space:
    # a distinct sentence for mining, but the same after strip(), so both are dropped.
    x[29], src_texts[29] = x[3], src_texts[3]
    tgt_texts[24] = tgt_texts[7] + " "
    src_ids = [f"s{i}" for i in range(30)]
    tgt_ids = [f"t{i}" for i in range(25)]

    out = mine_candidates(x, y, src_ids, tgt_ids, src_texts=src_texts, tgt_texts=tgt_texts)
    # Expected: mining over source rows 0..28 and all targets, minus pairs with s3, t7, t24.
    expected = [c for c in mine_candidates(x[:29], y, src_ids[:29], tgt_ids)
                if c[1] != "s3" and c[2] not in ("t7", "t24")]
    assert out == expected
    assert len(out) < len(mine_candidates(x[:29], y, src_ids[:29], tgt_ids))


def test_mining_rejects_mismatched_ids():
    with pytest.raises(ValueError):
        mine_candidates(np.ones((3, 2)), np.ones((2, 2)), ["a", "b"], ["c", "d"])


# ------------------------------------------------------------------------------ threshold ---


def test_best_threshold_walk_and_midpoint():
    candidates = [(0.6, "a4", "b4"), (0.9, "a1", "b1"), (0.5, "a5", "b5"),
                  (0.8, "a2", "b2"), (0.7, "a3", "b3")]  # given unsorted on purpose
    gold = {("a1", "b1"), ("a2", "b2"), ("a4", "b4"), ("a9", "b9")}  # a9-b9 never mined
    # Walk by score (correct/extracted, recall = correct/4):
    #   0.9 ok   P 1/1  R 1/4 F1 0.400
    #   0.8 ok   P 2/2  R 2/4 F1 0.667
    #   0.7 --   P 2/3  R 2/4 F1 0.571
    #   0.6 ok   P 3/4  R 3/4 F1 0.750   <- best: threshold (0.6 + 0.5) / 2 = 0.55
    #   0.5 --   P 3/5  R 3/4 F1 0.667
    threshold = best_threshold(candidates, gold)
    assert threshold == pytest.approx(0.55)
    predicted = apply_threshold(candidates, threshold)
    assert sorted(predicted) == [("a1", "b1"), ("a2", "b2"), ("a3", "b3"), ("a4", "b4")]
    n_correct = len(gold & set(predicted))
    precision, recall = n_correct / len(predicted), n_correct / len(gold)
    assert 2 * precision * recall / (precision + recall) == pytest.approx(0.75)


def test_best_threshold_first_maximum_wins():
    # gold size 2.  F1 = 2c / (n + 2): after 1 -> 2/3, after 4 -> 4/6 = 2/3 (equal): first kept.
    candidates = [(4.0, "a", "x"), (3.0, "b", "y"), (2.0, "c", "z"), (1.0, "d", "w")]
    assert best_threshold(candidates, [("a", "x"), ("d", "w")]) == 3.5


def test_best_threshold_at_last_candidate_and_without_hits():
    candidates = [(2.0, "a", "x"), (1.0, "b", "y")]
    # Best F1 after the last candidate: XTREME would raise IndexError; we keep everything.
    assert best_threshold(candidates, [("a", "x"), ("b", "y")]) == 1.0
    assert apply_threshold(candidates, 1.0) == [("a", "x"), ("b", "y")]
    assert best_threshold(candidates, [("c", "z")]) == 0.0
    assert best_threshold([], [("c", "z")]) == 0.0


def test_threshold_on_tied_scores_keeps_all_tied_candidates():
    candidates = [(2.0, "a", "x"), (1.0, "b", "y"), (1.0, "c", "z"), (0.5, "d", "w")]
    # Best walk position is after (b, y): midpoint of the tied 1.0 and 1.0 is 1.0, and ">="
    # then also keeps (c, z), exactly as XTREME's bucc_optimize + bucc_extract do.
    threshold = best_threshold(candidates, [("a", "x"), ("b", "y")])
    assert threshold == 1.0
    assert apply_threshold(candidates, threshold) == [("a", "x"), ("b", "y"), ("c", "z")]
