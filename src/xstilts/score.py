"""Scoring of one run's predictions for one task, and the aggregate CSV of all runs.

Per language, the task's metric (xstilts.metrics, identical to XTREME's evaluate.py) on the prediction and gold
files of the official layout; per task, evaluate.py's averages (`avg_<metric>`, `avg_metric`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .jsonl import write_json
from .metrics import METRICS, summarize_task
from .predfiles import read_for_scoring
from .tables import write_scores
from .tasks import get_task


def score_run_task(task_name: str, languages: list[str], pred_dir: Path, gold_dir: Path, out_dir: Path,
                   run: dict) -> dict:
    task = get_task(task_name)
    metric = METRICS[task.metric]
    out_dir = Path(out_dir)
    per_language = {}
    for lang in languages:
        name = f"test-{lang}.{task.prediction_suffix}"
        gold, predictions = read_for_scoring(task.family.file_kind, Path(pred_dir) / name, Path(gold_dir) / name)
        per_language[lang] = metric(gold, predictions, language=lang)
        write_json(out_dir / f"{lang}.json", {**run, "task": task_name, "lang": lang, "metrics": per_language[lang]})
    summary = summarize_task(per_language, qa=task.group == "qa")
    write_json(out_dir / "task.json", {**run, "task": task_name, "task_version": task.version, "summary": summary})
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
