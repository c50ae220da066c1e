"""The paper's figures: per (model, arm), a heat map of its per-language difference to a reference arm.

Rows are target tasks, columns "avg" (the task score) then every test language of the tasks; a cell is the
difference in points from results/deltas.csv (xstilts.bootstrap), blank where the task has no such language,
on a diverging colour scale centred at 0 and symmetric around it. A framed cell with its number in bold is
significant: its 95% paired bootstrap interval excludes 0. matplotlib runs headless (Agg).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from .tables import latex_escape  # noqa: E402

AVERAGE = "avg"


def delta_grid(deltas: Iterable[dict], model: str, arm: str, reference: str, tasks: Sequence[str],
               languages: Mapping[str, Sequence[str]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(columns, deltas, significant) for one (model, arm, reference): columns are "avg" and the union of the
    tasks' languages, sorted; both arrays have shape (tasks, columns), NaN / False where there is no delta."""
    columns = [AVERAGE] + sorted({lang for task in tasks for lang in languages[task]})
    where = {c: j for j, c in enumerate(columns)}
    values = np.full((len(tasks), len(columns)), np.nan)
    significant = np.zeros(values.shape, dtype=bool)
    row_of = {task: i for i, task in enumerate(tasks)}
    for d in deltas:
        if (d["model"], d["arm"], d["reference"]) != (model, arm, reference) or d["task"] not in row_of:
            continue
        cell = (row_of[d["task"]], where[AVERAGE if d["lang"] == "all" else d["lang"]])
        values[cell], significant[cell] = d["delta"], d["significant"]
    return columns, values, significant


def delta_heatmap(deltas: Iterable[dict], model: str, arm: str, reference: str, tasks: Sequence[str],
                  languages: Mapping[str, Sequence[str]], headers: Mapping[str, str], outputs: Iterable[Path]) -> None:
    """Draw the heat map of `arm` minus `reference` for `model` and save it to each of `outputs` (the format
    follows the suffix: .pdf for the paper, .png for the report)."""
    columns, values, significant = delta_grid(deltas, model, arm, reference, tasks, languages)
    if np.isnan(values).all():
        raise ValueError(f"no deltas of {model}/{arm} against {reference} for tasks {', '.join(tasks)}")
    limit = float(np.nanmax(np.abs(values))) or 1.0
    rows, cols = values.shape
    fig, ax = plt.subplots(figsize=(max(5.0, 2.0 + 0.5 * cols), 1.6 + 0.45 * rows))
    cmap = plt.get_cmap("RdBu").with_extremes(bad="white")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, aspect="auto",
                      norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit))
    for i in range(rows):
        for j in range(cols):
            if np.isnan(values[i, j]):
                continue
            strong = abs(values[i, j]) > 0.6 * limit
            ax.text(j, i, f"{values[i, j]:+.1f}", ha="center", va="center", fontsize=7,
                    color="white" if strong else "black", fontweight="bold" if significant[i, j] else "normal")
            if significant[i, j]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.2))
    ax.set_xticks(range(cols), columns, fontsize=8)
    ax.set_yticks(range(rows), [headers.get(t, t) for t in tasks], fontsize=8)
    ax.axvline(0.5, color="black", linewidth=0.8)  # the task average apart from the languages
    ax.set_title(f"{model}: {arm} \u2212 {reference}\n(points; framed: 95% bootstrap CI excludes 0)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01).ax.tick_params(labelsize=7)
    fig.tight_layout()
    for path in outputs:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)
    plt.close(fig)


def figures_tex(figures: Sequence[tuple[str, str, str]], reference: str, per_page: int = 4) -> str:
    """LaTeX figures for paper/main.tex, one per (model, arm, path of its PDF relative to paper/), each arm
    against `reference`, with a \clearpage every `per_page` figures (and at the end) so that floats never pile
    up past LaTeX's limit."""
    blocks = []
    for n, (model, arm, path) in enumerate(figures, start=1):
        blocks.append("\n".join([
            "\\begin{figure}[p]", "  \\centering", f"  \\includegraphics[width=\\linewidth]{{{path}}}",
            f"  \\caption{{Per-language difference of {latex_escape(model)} after intermediate training on "
            f"{latex_escape(arm)} to the baseline ({latex_escape(reference)}), in points, per target task (rows) "
            "and test language (columns; avg: the task score). Framed cells: the 95\\% paired bootstrap "
            "confidence interval (resampling test examples and seeds) excludes 0.}",
            f"  \\label{{fig:delta-{model}-{arm}}}", "\\end{figure}"]))
        if n % per_page == 0 or n == len(figures):
            blocks.append("\\clearpage")
    return "\n".join(blocks) + "\n"
