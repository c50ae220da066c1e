"""Scoring of one run's predictions for one task, the aggregate CSV of all runs, and the deltas between arms.

Per language, the task's metric (xstilts.metrics, identical to XTREME's evaluate.py) on the prediction and gold
files of the official layout, plus its per-example statistics (`<lang>.stats.npz`, in gold order, for the paired
bootstrap of xstilts.bootstrap); per task, evaluate.py's averages (`avg_<metric>`, `avg_metric`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .bootstrap import RESAMPLES, grid_deltas
from .jsonl import write_json
from .metrics import EXAMPLE_STATS, METRICS, ExampleStats, scores_from_stats, summarize_task
from .predfiles import read_for_scoring
from .provenance import write_provenance
from .tables import write_deltas, write_scores
from .tasks import get_task


def score_run_task(task_name: str, languages: list[str], pred_dir: Path, gold_dir: Path, out_dir: Path,
                   run: dict, rule: str | None = None) -> dict:
    """Score files per language and task.json in `out_dir`, with a provenance.json naming the prediction and
    gold directories it scored (by their checksums)."""
    task = get_task(task_name)
    metric = METRICS[task.metric]
    out_dir = Path(out_dir)
    per_language = {}
    for lang in languages:
        name = f"test-{lang}.{task.prediction_suffix}"
        gold, predictions = read_for_scoring(task.family.file_kind, Path(pred_dir) / name, Path(gold_dir) / name)
        per_language[lang] = metric(gold, predictions, language=lang)
        stats = EXAMPLE_STATS[task.metric](gold, predictions, language=lang)
        if scores_from_stats(stats) != per_language[lang]:
            raise RuntimeError(f"{Path(pred_dir) / name}: the per-example statistics give {scores_from_stats(stats)}"
                               f" but {task.metric} gives {per_language[lang]}")
        write_stats(out_dir / f"{lang}.stats.npz", stats)
        write_json(out_dir / f"{lang}.json", {**run, "task": task_name, "lang": lang, "metrics": per_language[lang]})
    summary = summarize_task(per_language, qa=task.group == "qa")
    write_json(out_dir / "task.json", {**run, "task": task_name, "task_version": task.version, "summary": summary})
    write_provenance(out_dir, {"task": task_name, "languages": languages, **run}, seed=run.get("seed"),
                     inputs={"predictions": pred_dir, "gold": gold_dir}, rule=rule)
    return summary


def score_rows(score_dir: Path) -> Iterable[dict]:
    """Long-form rows of one score directory: per-language metrics, then lang "all" for the averages."""
    record = json.loads((Path(score_dir) / "task.json").read_text())
    key = {k: record[k] for k in ("model", "arm", "seed", "task")}
    for name, value in record["summary"].items():
        if isinstance(value, dict):
            for lang, score in value.items():
                yield {**key, "lang": lang, "metric": name, "value": score}
        else:
            yield {**key, "lang": "all", "metric": name, "value": value}


def aggregate(score_dirs: Iterable[Path], out_csv: Path) -> None:
    write_scores(out_csv, (row for d in score_dirs for row in score_rows(d)))


def write_stats(path: Path, stats: ExampleStats) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    arrays = {"kind": np.array(stats.kind), "values": stats.values}
    if stats.ids is not None:
        arrays["ids"] = np.array(stats.ids, dtype=str)
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def read_stats(path: Path) -> ExampleStats:
    with np.load(path, allow_pickle=False) as data:
        ids = tuple(data["ids"].tolist()) if "ids" in data else None
        return ExampleStats(str(data["kind"]), data["values"], ids)


def delta_comparisons(arm_kinds: Mapping[str, str], baseline: str) -> list[tuple[str, str]]:
    """(arm, reference) pairs: every arm against the baseline, and every multilingual or MLM arm against every
    English-only arm (the research question: does non-English intermediate data beat English-only data?)."""
    english = [arm for arm, kind in arm_kinds.items() if kind == "english"]
    pairs = [(arm, baseline) for arm in arm_kinds if arm != baseline]
    pairs += [(arm, ref) for arm, kind in arm_kinds.items() if kind in ("multilingual", "mlm") for ref in english]
    return pairs


def deltas(score_dirs: Iterable[Path], out_csv: Path, languages: Mapping[str, Sequence[str]],
           arm_kinds: Mapping[str, str], baseline: str, resamples: int = RESAMPLES, seed: int = 0) -> None:
    """results/deltas.csv from the score directories' statistics: see xstilts.bootstrap.grid_deltas."""
    by_task: dict[str, dict[tuple[str, str, int], Path]] = {}
    for directory in map(Path, score_dirs):
        record = json.loads((directory / "task.json").read_text())
        by_task.setdefault(record["task"], {})[(record["model"], record["arm"], record["seed"])] = directory

    def load(task: str, lang: str) -> dict[tuple[str, str, int], ExampleStats]:
        return {run: read_stats(directory / f"{lang}.stats.npz") for run, directory in by_task.get(task, {}).items()}

    rows = grid_deltas(load, list(languages), delta_comparisons(arm_kinds, baseline), languages, resamples, seed)
    write_deltas(out_csv, rows)
