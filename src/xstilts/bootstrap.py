"""Paired bootstrap confidence intervals for score differences between intermediate arms (pure numpy).

A run is one (model, arm, seed); its score on a task is the mean over the task's languages of the per-language
headline score (XTREME's avg_metric: accuracy, F1, or (EM + F1) / 2 for QA). The difference of an arm to a
reference arm is the difference of their scores averaged over seeds. One bootstrap replicate

1. resamples each language's test units (examples; source sentences for BUCC) with replacement: one multinomial
   weight vector per language and replicate, shared by every run, so the two arms are paired example by example
   (and the same vector serves every comparison that involves the task);
2. resamples the seeds of each arm with replacement, independently for the two arms, once per comparison and
   replicate, shared by every task and language (a seed is one training run across all tasks);

and recomputes the difference from the weighted column sums of the runs' per-unit statistics
(xstilts.metrics.ExampleStats), so corpus-level metrics such as F1 are recomputed, not averaged. The 95%
interval is the 2.5th to 97.5th percentile of the replicates; a difference is significant when the interval
excludes 0. The reported difference is the observed one, not the replicates' mean.

All resampling is seeded: the example weights by (seed, task, language) and the seed draws by (seed, model,
arm, reference), so a comparison's numbers do not depend on the other arms or models in the grid (except for
BUCC, whose units are the union of the source sentences in the gold pairs and in every run's predictions).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import ExampleStats, headline, scores_from_stats

RESAMPLES = 1000
# weight-matrix entries generated at once; bounds memory, and fixes the random stream for a given unit count
_CHUNK_ENTRIES = 1 << 22


@dataclass(frozen=True)
class Delta:
    """An observed difference (score points) and its 95% bootstrap interval."""

    delta: float
    ci_low: float
    ci_high: float

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def _rng(seed: int, *names: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(name.encode()) for name in names)])


def headline_scores(kind: str, sums: np.ndarray) -> np.ndarray:
    """Vectorized headline score (percent) from column sums of shape (..., columns of metrics.STAT_COLUMNS[kind]).

    The same formulas as xstilts.metrics.scores_from_stats; zero denominators give 0 like the metrics."""
    if kind == "accuracy":
        correct, total = sums[..., 0], sums[..., 1]
        return 100 * _ratio(correct, total)
    if kind == "qa":
        exact_match, f1, questions = sums[..., 0], sums[..., 1], sums[..., 2]
        return 100 * (_ratio(exact_match, questions) + _ratio(f1, questions)) / 2
    correct, predicted, gold = sums[..., 0], sums[..., 1], sums[..., 2]
    precision, recall = _ratio(correct, predicted), _ratio(correct, gold)
    return 100 * _ratio(2 * precision * recall, precision + recall)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator, denominator = np.broadcast_arrays(np.asarray(numerator, float), np.asarray(denominator, float))
    return np.divide(numerator, denominator, out=np.zeros(numerator.shape), where=denominator != 0)


def resampled_sums(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Column sums of `values` (units, columns) under `resamples` multinomial resamplings of its rows:
    shape (resamples, columns). Row b of the weight matrix counts how often each unit is drawn in replicate b."""
    units = len(values)
    if units == 0:
        return np.zeros((resamples, values.shape[1]))
    # float32 products and sums are exact for integer statistics while every partial sum stays below 2**24
    # (weights and counts are integers); QA's fractional F1 loses nothing that matters at 1e-7 relative
    exact_in_float32 = float(np.abs(values).max()) * units < 2**24
    dtype = np.float32 if exact_in_float32 else np.float64
    columns = values.astype(dtype)
    out = np.empty((resamples, values.shape[1]))
    step = max(1, _CHUNK_ENTRIES // units)
    for start in range(0, resamples, step):
        rows = min(step, resamples - start)
        draws = rng.integers(0, units, size=(rows, units), dtype=np.int32)
        draws += (np.arange(rows, dtype=np.int32) * units)[:, None]
        weights = np.bincount(draws.ravel(), minlength=rows * units).reshape(rows, units).astype(dtype)
        out[start:start + rows] = weights @ columns
    return out


def _aligned(stats: Sequence[ExampleStats], what: str) -> np.ndarray:
    """The runs' statistics side by side, (units, runs, columns), paired by position or, for keyed units
    (BUCC), by id over the union of every run's ids."""
    kinds = {s.kind for s in stats}
    if len(kinds) != 1:
        raise ValueError(f"{what}: runs mix statistics kinds {sorted(kinds)}")
    if all(s.ids is None for s in stats):
        sizes = {len(s.values) for s in stats}
        if len(sizes) != 1:
            raise ValueError(f"{what}: runs have different numbers of test examples {sorted(sizes)}; paired "
                             f"resampling needs every run scored on the same gold file")
        return np.stack([s.values for s in stats], axis=1)
    if any(s.ids is None for s in stats):
        raise ValueError(f"{what}: some runs have unit ids and some do not")
    index = {unit: i for i, unit in enumerate(dict.fromkeys(u for s in stats for u in s.ids))}
    out = np.zeros((len(index), len(stats), stats[0].values.shape[1]))
    for r, s in enumerate(stats):
        out[[index[u] for u in s.ids], r] = s.values
    return out


@dataclass(frozen=True)
class TaskScores:
    """Per-language headline scores of several runs on one task: observed (runs, languages) and bootstrap
    replicates (runs, languages, resamples), every run resampled with the same example weights."""

    languages: tuple[str, ...]
    observed: np.ndarray
    replicates: np.ndarray


def language_scores(stats: Sequence[ExampleStats], task: str, lang: str, resamples: int = RESAMPLES,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Observed (runs,) and resampled (runs, resamples) headline scores of several runs on one language of a
    task, every run resampled with the same example weights."""
    observed = np.array([headline(scores_from_stats(s)) for s in stats])
    aligned = _aligned(stats, f"{task}/{lang}")  # (units, runs, columns)
    units, runs, width = aligned.shape
    # columns equal in every run (the gold counts: totals, gold chunks or pairs, questions) are resampled once
    shared = [c for c in range(width) if (aligned[:, :, c] == aligned[:, :1, c]).all()]
    own = [c for c in range(width) if c not in shared]
    matrix = np.concatenate([aligned[:, :, own].reshape(units, -1), aligned[:, 0, shared]], axis=1)
    sums = resampled_sums(matrix, resamples, _rng(seed, task, lang))
    per_run = np.empty((resamples, runs, width))
    per_run[:, :, own] = sums[:, :runs * len(own)].reshape(resamples, runs, len(own))
    per_run[:, :, shared] = sums[:, None, runs * len(own):]
    return observed, headline_scores(stats[0].kind, per_run).T


def task_scores(runs: Sequence[Mapping[str, ExampleStats]], languages: Sequence[str], task: str,
                resamples: int = RESAMPLES, seed: int = 0) -> TaskScores:
    """Observed and resampled per-language scores of `runs` (each {language: statistics}) on `task`."""
    per_language = []
    for lang in languages:
        missing = [i for i, run in enumerate(runs) if lang not in run]
        if missing:
            raise ValueError(f"{task}/{lang}: no statistics for run(s) {missing}")
        per_language.append(language_scores([run[lang] for run in runs], task, lang, resamples, seed))
    return _task_scores(languages, per_language)


def _task_scores(languages: Sequence[str], per_language: Sequence[tuple[np.ndarray, np.ndarray]]) -> TaskScores:
    return TaskScores(tuple(languages), np.stack([o for o, _ in per_language], axis=1),
                      np.stack([r for _, r in per_language], axis=1))


def seed_draws(seeds: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples, seeds) indices: each replicate's seeds drawn with replacement."""
    return rng.integers(0, seeds, size=(resamples, seeds))


def compare(scores: TaskScores, system: Sequence[int], reference: Sequence[int], system_draws: np.ndarray,
            reference_draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed per-language differences (languages,) of the seed-averaged `system` runs minus the `reference`
    runs (indices into `scores`), and their replicates (resamples, languages) under the given seed draws."""
    observed = scores.observed[list(system)].mean(axis=0) - scores.observed[list(reference)].mean(axis=0)
    return observed, _resampled_mean(scores, system, system_draws) - _resampled_mean(scores, reference,
                                                                                     reference_draws)


def _resampled_mean(scores: TaskScores, runs: Sequence[int], draws: np.ndarray) -> np.ndarray:
    """(resamples, languages): per replicate, the mean over the drawn seeds' replicate scores."""
    stacked = scores.replicates[list(runs)]  # (seeds, languages, resamples)
    resamples = stacked.shape[2]
    picked = stacked[draws, :, np.arange(resamples)[:, None]]  # (resamples, seeds, languages)
    return picked.mean(axis=1)


def interval(observed: float, replicates: np.ndarray) -> Delta:
    low, high = np.percentile(replicates, [2.5, 97.5])
    return Delta(float(observed), float(low), float(high))


def intervals(observed: np.ndarray, replicates: np.ndarray) -> list[Delta]:
    """interval() of every column: observed (n,), replicates (resamples, n)."""
    low, high = np.percentile(replicates, [2.5, 97.5], axis=0)
    return [Delta(float(o), float(lo), float(hi)) for o, lo, hi in zip(observed, low, high)]


def paired_bootstrap(system: Mapping[str, Sequence[ExampleStats]], reference: Mapping[str, Sequence[ExampleStats]],
                     task: str = "task", resamples: int = RESAMPLES, seed: int = 0) -> tuple[Delta, dict[str, Delta]]:
    """Task-score difference of two systems, each {language: [statistics per seed]}, with its paired bootstrap
    interval: (the task delta, {language: delta}). The languages are the system's, in its order."""
    languages = list(system)
    if set(reference) != set(languages):
        raise ValueError(f"the systems cover different languages: {sorted(system)} and {sorted(reference)}")
    seed_counts = [{len(side[lang]) for lang in languages} for side in (system, reference)]
    if any(len(counts) != 1 for counts in seed_counts):
        raise ValueError("each system needs statistics of the same number of seeds in every language")
    n_system, n_reference = (counts.pop() for counts in seed_counts)
    runs = [{lang: system[lang][s] for lang in languages} for s in range(n_system)]
    runs += [{lang: reference[lang][s] for lang in languages} for s in range(n_reference)]
    scores = task_scores(runs, languages, task, resamples, seed)
    rng = _rng(seed, task, "seeds")
    observed, replicates = compare(scores, range(n_system), range(n_system, n_system + n_reference),
                                   seed_draws(n_system, resamples, rng), seed_draws(n_reference, resamples, rng))
    per_language = dict(zip(languages, intervals(observed, replicates)))
    return interval(observed.mean(), replicates.mean(axis=1)), per_language


RunKey = tuple[str, str, int]  # (model, arm, seed)


def grid_deltas(load: Callable[[str, str], Mapping[RunKey, ExampleStats]], tasks: Sequence[str],
                comparisons: Sequence[tuple[str, str]], languages: Mapping[str, Sequence[str]],
                resamples: int = RESAMPLES, seed: int = 0) -> list[dict]:
    """Deltas of every (arm, reference) comparison for every model, as rows
    {model, arm, reference, task, lang, delta, ci_low, ci_high, significant}.

    `load(task, lang)` gives the statistics of every run on that task and language, {(model, arm, seed):
    statistics}; one language is loaded at a time, so memory holds one language's statistics. Every task and
    language needs the same runs. Per comparison and task: one row per language, then lang "all" (the task
    score); after the tasks, task "all" (the mean over `tasks`). Comparisons whose arm or reference has no runs
    for a model are left out.
    """
    keys: list[RunKey] | None = None
    seeds: dict[tuple[str, str], list[int]] = {}
    rows: dict[tuple[str, str, str], list[dict]] = {}
    task_deltas: dict[tuple[str, str, str], list[tuple[float, np.ndarray]]] = {}
    draws = {}
    for task in tasks:
        per_language = []
        for lang in languages[task]:
            runs = load(task, lang)
            if keys is None:
                keys = sorted(runs)
                for model, arm, run_seed in keys:
                    seeds.setdefault((model, arm), []).append(run_seed)
                for model in dict.fromkeys(m for m, _ in seeds):
                    for arm, ref in comparisons:
                        if (model, arm) in seeds and (model, ref) in seeds:
                            rng = _rng(seed, model, arm, ref)
                            draws[(model, arm, ref)] = (seed_draws(len(seeds[(model, arm)]), resamples, rng),
                                                        seed_draws(len(seeds[(model, ref)]), resamples, rng))
                            rows[(model, arm, ref)], task_deltas[(model, arm, ref)] = [], []
            elif sorted(runs) != keys:
                first = f"{tasks[0]}/{languages[tasks[0]][0]}"
                raise ValueError(f"{task}/{lang} has statistics of runs {_describe(runs)} but {first} of "
                                 f"{_describe(keys)}; every task and language needs the same (model, arm, seed) runs")
            per_language.append(language_scores([runs[key] for key in keys], task, lang, resamples, seed))
        scores = _task_scores(languages[task], per_language)
        position = {key: i for i, key in enumerate(keys)}
        for (model, arm, ref), (system_draws, reference_draws) in draws.items():
            system = [position[(model, arm, s)] for s in seeds[(model, arm)]]
            reference = [position[(model, ref, s)] for s in seeds[(model, ref)]]
            observed, replicates = compare(scores, system, reference, system_draws, reference_draws)
            key = {"model": model, "arm": arm, "reference": ref, "task": task}
            for lang, delta in zip(scores.languages, intervals(observed, replicates)):
                rows[(model, arm, ref)].append(_row(key, lang, delta))
            task_delta = (observed.mean(), replicates.mean(axis=1))
            rows[(model, arm, ref)].append(_row(key, "all", interval(*task_delta)))
            task_deltas[(model, arm, ref)].append(task_delta)
    out = []
    for (model, arm, ref), pair_rows in rows.items():
        per_task = task_deltas[(model, arm, ref)]
        observed = float(np.mean([o for o, _ in per_task]))
        replicates = np.mean([r for _, r in per_task], axis=0)
        key = {"model": model, "arm": arm, "reference": ref, "task": "all"}
        out += pair_rows + [_row(key, "all", interval(observed, replicates))]
    return out


def _describe(runs: Iterable[RunKey]) -> str:
    seeds: dict[tuple[str, str], list[int]] = {}
    for model, arm, run_seed in sorted(runs):
        seeds.setdefault((model, arm), []).append(run_seed)
    return ", ".join(f"{model}/{arm} seeds {s}" for (model, arm), s in seeds.items()) or "(none)"


def _row(key: dict, lang: str, delta: Delta) -> dict:
    return {**key, "lang": lang, "delta": delta.delta, "ci_low": delta.ci_low, "ci_high": delta.ci_high,
            "significant": delta.significant}

