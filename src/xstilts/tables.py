"""LaTeX tables from the aggregated scores (pure: rows in, text out).

The aggregate CSV is long-form, one row per (model, arm, seed, task, lang, metric). A task's headline score is
its `avg_metric` over languages (lang "all"), computed exactly as XTREME's evaluate.py: accuracy for
classification and Tatoeba, F1 for tagging and BUCC, (EM + F1) / 2 for QA.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

FIELDS = ("model", "arm", "seed", "task", "lang", "metric", "value")


def read_scores(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{**row, "seed": int(row["seed"]), "value": float(row["value"])} for row in csv.DictReader(f)]


def write_scores(path: Path, rows: Iterable[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def headline_scores(rows: Iterable[dict]) -> dict[tuple[str, str, str], dict[int, float]]:
    """(model, arm, task) -> {seed: avg_metric}."""
    cells: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
    for row in rows:
        if row["lang"] == "all" and row["metric"] == "avg_metric":
            cells[(row["model"], row["arm"], row["task"])][row["seed"]] = row["value"]
    return cells


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None for a single seed)."""
    mean = math.fsum(values) / len(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


def format_cell(values: Sequence[float]) -> str:
    if not values:
        return "--"
    mean, std = mean_std(values)
    return f"{mean:.1f}" if std is None else f"{mean:.1f} {{\\scriptsize $\\pm$ {std:.1f}}}"


_LATEX_SPECIAL = str.maketrans({"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#",
                                "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                                "^": r"\textasciicircum{}"})


def latex_escape(text: str) -> str:
    # one pass: the braces of \textbackslash{} must not be escaped again
    return text.translate(_LATEX_SPECIAL)


def xtreme_table(rows: Iterable[dict], models: Sequence[str], arms: Sequence[str], tasks: Sequence[str],
                 headers: dict[str, str], arm_labels: dict[str, str] | None = None) -> str:
    """Rows: intermediate arms (grouped by model when there are several); columns: target tasks and their
    average. Each cell is the mean (± sample std) over seeds. The average column averages, per seed, the task
    scores of the seeds present for every task, so it is never a mean of means over different seed sets."""
    cells = headline_scores(rows)
    arm_labels = arm_labels or {}
    spec = "l" + "c" * (len(tasks) + 1)
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
             " & ".join(["Intermediate task"] + [latex_escape(headers.get(t, t)) for t in tasks] + ["Avg"]) + r" \\",
             "\\midrule"]
    for m, model in enumerate(models):
        if len(models) > 1:
            if m:
                lines.append("\\midrule")
            lines.append(f"\\multicolumn{{{len(tasks) + 2}}}{{l}}{{\\textit{{{latex_escape(model)}}}}} \\\\")
        for arm in arms:
            per_task = [cells.get((model, arm, task), {}) for task in tasks]
            shared = set.intersection(*(set(c) for c in per_task)) if per_task else set()
            averages = [math.fsum(c[s] for c in per_task) / len(per_task) for s in sorted(shared)]
            row = [latex_escape(arm_labels.get(arm, arm))] + [format_cell(list(c.values())) for c in per_task]
            lines.append(" & ".join(row + [format_cell(averages)]) + r" \\")
    lines += ["\\bottomrule", "\\end{tabular}", ""]
    return "\n".join(lines)
