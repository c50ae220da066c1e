"""BUCC mining at (a fraction of) the real corpus sizes: xstilts.retrieval.mine_candidates against one faiss
flat nearest-neighbour search on the same vectors.

What is timed, per language pair, on the same random sentence embeddings:

* faiss: `IndexFlatIP` over the L2-normalised English vectors, searched with the non-English ones, k=4: one
  direction only, the cheapest exact search faiss offers for this corpus pair (normalisation not timed);
* ours: the whole `mine_candidates` call (normalisation, the k=4 search in both directions, margins, the
  one-to-one merge and the id mapping), as the BUCC task runs it.

The goal is ours <= 1.3x faiss. Both use every core by default (OpenBLAS threads for numpy, OpenMP for faiss).

faiss is not a project dependency: `pip install faiss-cpu` (into the project's .venv) to run this.

    .venv/bin/python bench/bucc_mining.py                       # 5% of the real sizes, all four pairs
    .venv/bin/python bench/bucc_mining.py --scale 1 --langs zh  # zh at full size (95k x 89k)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from xstilts.retrieval import mine_candidates  # noqa: E402

# XTREME's BUCC test sets (the shared task's "training" data): (non-English, English) sentences, rounded.
SIZES = {"de": (413_000, 400_000), "fr": (271_000, 330_000), "ru": (460_000, 558_000), "zh": (95_000, 89_000)}
# Share of non-English sentences with a translation among the English ones (BUCC de-en: ~9.6k of 413k).
ALIGNED = 0.025


def embeddings(n_src: int, n_tgt: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Anisotropic random sentence vectors (a shared direction plus low-rank "topics" plus noise, so that cosine
    similarities are positive and clustered, as with real encoders), with a few percent of the source sentences
    being noisy copies of English ones."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(dim, dtype=np.float32)
    topics = rng.standard_normal((64, dim), dtype=np.float32)

    def sample(n):
        out = rng.standard_normal((n, dim), dtype=np.float32)
        out += rng.standard_normal((n, 64), dtype=np.float32) @ topics * np.float32(0.25)
        out += common * np.float32(1.5)
        return out

    src, tgt = sample(n_src), sample(n_tgt)
    n_aligned = int(min(n_src, n_tgt) * ALIGNED)
    pick_src = rng.choice(n_src, n_aligned, replace=False)
    pick_tgt = rng.choice(n_tgt, n_aligned, replace=False)
    src[pick_src] = tgt[pick_tgt] + np.float32(0.5) * rng.standard_normal((n_aligned, dim), dtype=np.float32)
    return src, tgt


def time_faiss(faiss, src: np.ndarray, tgt: np.ndarray, k: int) -> float:
    x, y = src.copy(), tgt.copy()
    faiss.normalize_L2(x)
    faiss.normalize_L2(y)
    start = time.perf_counter()
    index = faiss.IndexFlatIP(y.shape[1])
    index.add(y)
    index.search(x, k)
    return time.perf_counter() - start


def ids(n: int, prefix: str) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def time_ours(src: np.ndarray, tgt: np.ndarray, k: int) -> tuple[float, list]:
    start = time.perf_counter()
    candidates = mine_candidates(src, tgt, ids(len(src), "s"), ids(len(tgt), "t"), k=k)
    return time.perf_counter() - start, candidates


def check(faiss, src: np.ndarray, tgt: np.ndarray, k: int, ours: list) -> str:
    """Mine again with faiss searches in both directions; same pairs, scores within float32 rounding?"""
    def knn(queries, keys, kk):
        index = faiss.IndexFlatIP(keys.shape[1])
        index.add(keys)
        return index.search(queries, kk)

    theirs = mine_candidates(src, tgt, ids(len(src), "s"), ids(len(tgt), "t"), k=k, knn=knn)
    a = {(s, t): score for score, s, t in ours}
    b = {(s, t): score for score, s, t in theirs}
    same = len(a.keys() & b.keys())
    diff = max((abs(a[p] - b[p]) for p in a.keys() & b.keys()), default=0.0)
    return f"  check: {same} of {len(a)} / {len(b)} pairs shared with faiss-based mining, max score diff {diff:.1e}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.05, help="fraction of the real corpus sizes (default 0.05)")
    parser.add_argument("--langs", default="de,fr,ru,zh", help="comma-separated pairs (default de,fr,ru,zh)")
    parser.add_argument("--dim", type=int, default=1024, help="embedding size (1024: XLM-R large)")
    parser.add_argument("--k", type=int, default=4, help="neighbourhood (XTREME: 4)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per method; the fastest is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true",
                        help="also mine with faiss as the k-NN (XTREME's way, untimed) and compare the candidates")
    args = parser.parse_args(argv)

    try:
        import faiss
    except ImportError:
        print("faiss is not installed; it is not a project dependency. Install it for this benchmark with\n"
              "    .venv/bin/pip install faiss-cpu", file=sys.stderr)
        return 2

    langs = [lang.strip() for lang in args.langs.split(",") if lang.strip()]
    unknown = [lang for lang in langs if lang not in SIZES]
    if unknown:
        parser.error(f"unknown language(s) {', '.join(unknown)}; known: {', '.join(SIZES)}")

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"BUCC mining benchmark: scale {args.scale:g}, dim {args.dim}, k {args.k}, {cpus} CPUs, "
          f"faiss {faiss.__version__} ({faiss.omp_get_max_threads()} OpenMP threads), numpy {np.__version__}")
    header = f"{'pair':<6}{'src':>9}{'tgt':>9}{'faiss s':>10}{'ours s':>10}{'ratio':>8}{'pairs':>9}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for lang in langs:
        n_src, n_tgt = (max(args.k, round(n * args.scale)) for n in SIZES[lang])
        src, tgt = embeddings(n_src, n_tgt, args.dim, args.seed)
        faiss_s = min(time_faiss(faiss, src, tgt, args.k) for _ in range(args.repeat))
        runs = [time_ours(src, tgt, args.k) for _ in range(args.repeat)]
        ours_s, candidates = min(runs, key=lambda run: run[0])
        ratio = ours_s / faiss_s
        worst = max(worst, ratio)
        print(f"{lang + '-en':<6}{n_src:>9}{n_tgt:>9}{faiss_s:>10.2f}{ours_s:>10.2f}{ratio:>7.2f}x"
              f"{len(candidates):>9}", flush=True)
        if args.check:
            print(check(faiss, src, tgt, args.k, candidates), flush=True)
    print(f"worst ratio {worst:.2f}x (goal <= 1.30x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
