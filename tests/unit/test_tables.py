"""Tests for xstilts.tables: cell formatting (mean and sample std over seeds), LaTeX escaping, the XTREME-style
table (golden text), the Avg column over seeds shared by every task, and the scores CSV round trip."""

import math

import pytest

from xstilts.tables import (
    FIELDS,
    format_cell,
    headline_scores,
    latex_escape,
    mean_std,
    read_scores,
    write_scores,
    xtreme_table,
)


def row(model, arm, seed, task, value, lang="all", metric="avg_metric"):
    return {"model": model, "arm": arm, "seed": seed, "task": task, "lang": lang, "metric": metric, "value": value}


def test_format_cell():
    assert format_cell([]) == "--"
    assert format_cell([81.26]) == "81.3"  # one seed: no std
    assert format_cell([80.0, 82.0]) == r"81.0 {\scriptsize $\pm$ 1.4}"  # sample std, sqrt(2)
    assert format_cell([1.0, 2.0, 3.0, 4.0]) == r"2.5 {\scriptsize $\pm$ 1.3}"  # population std would be 1.1


def test_mean_std():
    assert mean_std([5.0]) == (5.0, None)
    mean, std = mean_std([1.0, 2.0, 3.0])
    assert mean == 2.0 and std == pytest.approx(1.0)


@pytest.mark.parametrize("text, escaped", [
    ("xlm-roberta-large", "xlm-roberta-large"),
    ("mnli_squad", r"mnli\_squad"),
    ("A & B 50% #1 $x$", r"A \& B 50\% \#1 \$x\$"),
    ("{a}", r"\{a\}"),
    (r"a\b", r"a\textbackslash{}b"),
    ("x~y^z", r"x\textasciitilde{}y\textasciicircum{}z"),
])
def test_latex_escape(text, escaped):
    assert latex_escape(text) == escaped


def test_headline_scores_keeps_only_avg_metric_over_languages():
    rows = [row("m", "none", 1, "xnli", 80.0), row("m", "none", 1, "xnli", 70.0, lang="de", metric="accuracy"),
            row("m", "none", 1, "xnli", 75.0, metric="avg_accuracy"), row("m", "none", 2, "xnli", 82.0)]
    assert headline_scores(rows) == {("m", "none", "xnli"): {1: 80.0, 2: 82.0}}


SCORES = [
    # baseline arm: both tasks, both seeds
    row("m", "none", 1, "xnli", 80.0), row("m", "none", 2, "xnli", 82.0),
    row("m", "none", 1, "panx", 60.0), row("m", "none", 2, "panx", 61.0),
    # an intermediate arm whose seed 2 has no PAN-X score yet: Avg uses seed 1 only
    row("m", "mnli_x", 1, "xnli", 83.0), row("m", "mnli_x", 2, "xnli", 85.0),
    row("m", "mnli_x", 1, "panx", 62.0),
    # rows that are not headline scores, and another model, are ignored
    row("m", "none", 1, "xnli", 10.0, lang="de", metric="accuracy"),
    row("other", "none", 1, "xnli", 1.0),
]

GOLDEN = r"""\begin{tabular}{lccc}
\toprule
Intermediate task & XNLI & NER & Avg \\
\midrule
None (baseline) & 81.0 {\scriptsize $\pm$ 1.4} & 60.5 {\scriptsize $\pm$ 0.7} & 70.8 {\scriptsize $\pm$ 1.1} \\
mnli\_x & 84.0 {\scriptsize $\pm$ 1.4} & 62.0 & 72.5 \\
\bottomrule
\end{tabular}
"""


def test_xtreme_table_golden():
    text = xtreme_table(SCORES, models=["m"], arms=["none", "mnli_x"], tasks=["xnli", "panx"],
                        headers={"xnli": "XNLI", "panx": "NER"}, arm_labels={"none": "None (baseline)"})
    assert text == GOLDEN


def test_avg_column_uses_only_seeds_present_for_every_task():
    # seed 1: (83 + 62) / 2 = 72.5; the mean of the task means would be (84 + 62) / 2 = 73.0
    text = xtreme_table(SCORES, models=["m"], arms=["mnli_x"], tasks=["xnli", "panx"], headers={})
    assert text.splitlines()[4] == r"mnli\_x & 84.0 {\scriptsize $\pm$ 1.4} & 62.0 & 72.5 \\"
    # headers default to the task names
    assert text.splitlines()[2] == r"Intermediate task & xnli & panx & Avg \\"


def test_missing_cells_and_no_shared_seed():
    rows = [row("m", "a", 1, "xnli", 80.0), row("m", "a", 2, "panx", 60.0)]
    text = xtreme_table(rows, models=["m"], arms=["a", "b"], tasks=["xnli", "panx", "xquad"], headers={})
    lines = text.splitlines()
    assert lines[4] == r"a & 80.0 & 60.0 & -- & -- \\"
    assert lines[5] == r"b & -- & -- & -- & -- \\"


def test_model_groups():
    rows = [row("xlm-r_large", "none", 1, "xnli", 80.0), row("xlm-r_large", "none", 1, "panx", 60.0),
            row("mt5", "none", 1, "xnli", 70.0), row("mt5", "none", 1, "panx", 50.0)]
    text = xtreme_table(rows, models=["xlm-r_large", "mt5"], arms=["none"], tasks=["xnli", "panx"],
                        headers={"xnli": "XNLI", "panx": "NER"})
    assert text == "\n".join([
        r"\begin{tabular}{lccc}",
        r"\toprule",
        r"Intermediate task & XNLI & NER & Avg \\",
        r"\midrule",
        r"\multicolumn{4}{l}{\textit{xlm-r\_large}} \\",
        r"none & 80.0 & 60.0 & 70.0 \\",
        r"\midrule",
        r"\multicolumn{4}{l}{\textit{mt5}} \\",
        r"none & 70.0 & 50.0 & 60.0 \\",
        r"\bottomrule",
        r"\end{tabular}",
        "",
    ])


def test_scores_round_trip(tmp_path):
    rows = [row("m", "none", 1, "xnli", 0.1 + 0.2), row("m", "mnli", 12, "panx", 61.123456789, lang="de",
                                                           metric="f1"),
            row("m,odd", 'arm "q"', 3, "xquad", math.pi, metric="avg_exact_match")]
    path = tmp_path / "scores.csv"
    write_scores(path, rows)
    assert path.read_text().splitlines()[0] == ",".join(FIELDS)
    back = read_scores(path)
    assert back == rows
    assert isinstance(back[0]["seed"], int) and isinstance(back[0]["value"], float)
