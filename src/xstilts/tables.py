"""The paper's tables from the aggregated scores and deltas (pure: rows in, text out), as LaTeX and HTML.

The aggregate CSV is long-form, one row per (model, arm, seed, task, lang, metric). A task's headline score is
its `avg_metric` over languages (lang "all"), computed exactly as XTREME's evaluate.py: accuracy for
classification and Tatoeba, F1 for tagging and BUCC, (EM + F1) / 2 for QA. The deltas CSV
(xstilts.bootstrap.grid_deltas) holds each arm's difference to a reference arm with its paired bootstrap 95%
interval. A table is built once as a `Table` and rendered by `render_latex` (paper/main.tex) or `render_html`
(the Snakemake report).
"""

from __future__ import annotations

import csv
import html
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .config import BASELINE_ARM

FIELDS = ("model", "arm", "seed", "task", "lang", "metric", "value")


def read_scores(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{**row, "seed": int(row["seed"]), "value": float(row["value"])} for row in csv.DictReader(f)]


def write_scores(path: Path, rows: Iterable[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


DELTA_FIELDS = ("model", "arm", "reference", "task", "lang", "delta", "ci_low", "ci_high", "significant")


def write_deltas(path: Path, rows: Iterable[dict]) -> None:
    """results/deltas.csv: one row per (model, arm, reference, task, lang); task and lang "all" for averages."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=DELTA_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_deltas(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{**row, **{k: float(row[k]) for k in ("delta", "ci_low", "ci_high")},
                 "significant": row["significant"] == "True"} for row in csv.DictReader(f)]


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


_LATEX_SYMBOLS = str.maketrans({"†": r"$^\dagger$", "Δ": r"$\Delta$", "±": r"$\pm$"})


def _tex(text: str) -> str:
    return latex_escape(text).translate(_LATEX_SYMBOLS)


@dataclass(frozen=True)
class Score:
    """A score cell: per-seed values (shown as mean ± sample std) and optionally a difference to a reference
    arm with its significance."""

    values: tuple[float, ...]
    delta: float | None = None
    significant: bool = False


@dataclass(frozen=True)
class Span:
    """A row spanning every column: a model's heading ("group") or a remark ("note")."""

    text: str
    kind: str = "group"


@dataclass
class Table:
    header: list[str]
    body: list[list[str | Score] | Span] = field(default_factory=list)
    footnote: str | None = None


def _latex_cell(cell: str | Score) -> str:
    if isinstance(cell, str):
        return _tex(cell)
    text = format_cell(cell.values)
    if cell.delta is None:
        return text
    marker = r"^{\dagger}" if cell.significant else ""
    return f"{text} {{\\scriptsize (${cell.delta:+.1f}{marker}$)}}"


def render_latex(table: Table) -> str:
    """A booktabs tabular: a model heading gets a \\midrule above it unless it opens the body; the footnote
    goes under the \\bottomrule, inside the tabular (so the table can be scaled as one box)."""
    width = len(table.header)
    lines = [f"\\begin{{tabular}}{{l{'c' * (width - 1)}}}", "\\toprule",
             " & ".join(map(_tex, table.header)) + r" \\", "\\midrule"]
    for i, row in enumerate(table.body):
        if isinstance(row, Span):
            if row.kind == "group" and i:
                lines.append("\\midrule")
            text = f"\\textit{{{_tex(row.text)}}}" if row.kind == "group" else _tex(row.text)
            lines.append(f"\\multicolumn{{{width}}}{{l}}{{{text}}} \\\\")
        else:
            lines.append(" & ".join(map(_latex_cell, row)) + r" \\")
    lines.append("\\bottomrule")
    if table.footnote:
        lines.append(f"\\multicolumn{{{width}}}{{l}}{{\\footnotesize {_tex(table.footnote)}}} \\\\")
    lines += ["\\end{tabular}", ""]
    return "\n".join(lines)


def _html_cell(cell: str | Score) -> str:
    if isinstance(cell, str):
        return html.escape(cell)
    if not cell.values:
        return "--"
    mean, std = mean_std(cell.values)
    text = f"{mean:.1f}" if std is None else f"{mean:.1f} ± {std:.1f}"
    if cell.delta is not None:
        delta = f"{cell.delta:+.1f}".replace("-", "\u2212") + ("†" if cell.significant else "")
        text += f' <span class="delta">({delta})</span>'
    return text


_HTML_STYLE = ("body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
               "th,td{padding:.25em .7em;text-align:center;border-bottom:1px solid #ddd}"
               "td:first-child,th:first-child{text-align:left}tr.group th{text-align:left;font-style:italic}"
               ".delta{font-size:80%;color:#444}p.note{font-size:85%;max-width:60em}")


def render_html(table: Table, title: str) -> str:
    """A standalone HTML page with the same content as render_latex (for the Snakemake report)."""
    width = len(table.header)
    lines = ["<!DOCTYPE html>", '<html lang="en">', '<head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title><style>{_HTML_STYLE}</style></head>", "<body>",
             f"<h1>{html.escape(title)}</h1>", "<table>",
             "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in table.header) + "</tr></thead>",
             "<tbody>"]
    for row in table.body:
        if isinstance(row, Span):
            lines.append(f'<tr class="{row.kind}"><th colspan="{width}">{html.escape(row.text)}</th></tr>')
        else:
            lines.append("<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in row) + "</tr>")
    lines += ["</tbody>", "</table>"]
    if table.footnote:
        lines.append(f'<p class="note">{html.escape(table.footnote)}</p>')
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines)


def _per_seed_average(per_task: Sequence[Mapping[int, float]]) -> tuple[float, ...]:
    """Per seed, the mean over tasks, for the seeds present for every task (never a mean of means over
    different seed sets)."""
    shared = set.intersection(*(set(c) for c in per_task)) if per_task else set()
    return tuple(math.fsum(c[s] for c in per_task) / len(per_task) for s in sorted(shared))


def _delta_index(deltas: Iterable[dict] | None) -> dict[tuple[str, str, str, str], dict]:
    """(model, arm, reference, task) -> the task-score delta row (lang "all"; task "all" for the average)."""
    return {(d["model"], d["arm"], d["reference"], d["task"]): d for d in deltas or () if d["lang"] == "all"}


def _score(values: Iterable[float], delta: dict | None = None) -> Score:
    if delta is None:
        return Score(tuple(values))
    return Score(tuple(values), delta["delta"], delta["significant"])


def build_xtreme_table(rows: Iterable[dict], models: Sequence[str], arms: Sequence[str], tasks: Sequence[str],
                       headers: dict[str, str], arm_labels: dict[str, str] | None = None,
                       deltas: Iterable[dict] | None = None, baseline: str = BASELINE_ARM) -> Table:
    """Rows: intermediate arms (grouped by model when there are several); columns: target tasks and their
    average. Each cell is the mean (± sample std) over seeds. The average column averages, per seed, the task
    scores of the seeds present for every task, so it is never a mean of means over different seed sets.
    With `deltas`, every other arm's cells also show their difference to `baseline` and a dagger where its
    95% paired bootstrap interval excludes 0."""
    cells = headline_scores(rows)
    arm_labels = arm_labels or {}
    index = _delta_index(deltas)
    table = Table(["Intermediate task"] + [headers.get(t, t) for t in tasks] + ["Avg"])
    for model in models:
        if len(models) > 1:
            table.body.append(Span(model))
        for arm in arms:
            per_task = [cells.get((model, arm, task), {}) for task in tasks]
            row: list[str | Score] = [arm_labels.get(arm, arm)]
            row += [_score(c.values(), index.get((model, arm, baseline, t))) for c, t in zip(per_task, tasks)]
            row.append(_score(_per_seed_average(per_task), index.get((model, arm, baseline, "all"))))
            table.body.append(row)
    if deltas is not None:
        table.footnote = (f"In parentheses: the difference to the baseline ({arm_labels.get(baseline, baseline)}) "
                          "in points; † its 95% paired bootstrap confidence interval (resampling test examples "
                          "and seeds) excludes 0.")
    return table


def xtreme_table(rows: Iterable[dict], models: Sequence[str], arms: Sequence[str], tasks: Sequence[str],
                 headers: dict[str, str], arm_labels: dict[str, str] | None = None,
                 deltas: Iterable[dict] | None = None, baseline: str = BASELINE_ARM) -> str:
    """build_xtreme_table as LaTeX."""
    return render_latex(build_xtreme_table(rows, models, arms, tasks, headers, arm_labels, deltas, baseline))


NO_MULTILINGUAL = "No multilingual or MLM intermediate arm in the grid: nothing to compare with the English-only arms."


def build_research_table(rows: Iterable[dict], deltas: Iterable[dict], models: Sequence[str], arms: Sequence[str],
                         arm_kinds: Mapping[str, str], tasks: Sequence[str], headers: dict[str, str],
                         baseline: str = BASELINE_ARM) -> Table:
    """The research question: do multilingual (or MLM) intermediate arms beat English-only ones?

    Per model, rows are the target tasks and their average; columns the baseline, the best English-only arm of
    the row (the highest mean over seeds, named, then its score) and each multilingual / MLM arm (`arm_kinds`,
    in `arms` order), whose cell adds its difference to that best English-only arm with a dagger where the
    95% paired bootstrap interval excludes 0. Without multilingual arms one row says so.
    """
    cells = headline_scores(rows)
    index = _delta_index(deltas)
    english = [a for a in arms if arm_kinds.get(a) == "english"]
    multilingual = [a for a in arms if arm_kinds.get(a) in ("multilingual", "mlm")]
    table = Table(["Target task", "Baseline", "Best English-only", "Score"]
                  + [f"{a} (MLM)" if arm_kinds[a] == "mlm" else a for a in multilingual])
    if not multilingual:
        table.body.append(Span(NO_MULTILINGUAL, "note"))
    for model in models:
        if len(models) > 1:
            table.body.append(Span(model))
        by_arm = {arm: [cells.get((model, arm, task), {}) for task in tasks] for arm in arms}
        scores = {arm: {**{t: tuple(c.values()) for t, c in zip(tasks, per_task)}, "all": _per_seed_average(per_task)}
                  for arm, per_task in by_arm.items()}
        for task in [*tasks, "all"]:
            ranked = [a for a in english if scores[a][task]]
            best = max(ranked, key=lambda a: statistics.fmean(scores[a][task])) if ranked else None
            row: list[str | Score] = [headers.get(task, task) if task != "all" else "Avg",
                                      Score(scores[baseline][task] if baseline in scores else ()),
                                      best or "--", Score(scores[best][task] if best else ())]
            row += [_score(scores[a][task], index.get((model, a, best, task)) if best else None)
                    for a in multilingual]
            table.body.append(row)
    if multilingual:
        table.footnote = ("Best English-only: per row, the English-only intermediate arm with the highest mean "
                          "score. In parentheses: the difference of each multilingual or MLM arm to it in points; "
                          "† its 95% paired bootstrap confidence interval (resampling test examples and seeds) "
                          "excludes 0.")
    return table


def research_question_table(rows: Iterable[dict], deltas: Iterable[dict], models: Sequence[str],
                            arms: Sequence[str], arm_kinds: Mapping[str, str], tasks: Sequence[str],
                            headers: dict[str, str], baseline: str = BASELINE_ARM) -> str:
    """build_research_table as LaTeX."""
    return render_latex(build_research_table(rows, deltas, models, arms, arm_kinds, tasks, headers, baseline))
