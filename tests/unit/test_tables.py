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


# --- deltas: the main table with differences to the baseline, the research-question table, HTML ---------------

from xstilts.tables import (  # noqa: E402
    DELTA_FIELDS,
    NO_MULTILINGUAL,
    Score,
    Span,
    Table,
    build_research_table,
    build_xtreme_table,
    read_deltas,
    render_html,
    render_latex,
    research_question_table,
    write_deltas,
)


def delta(model, arm, reference, task, value, significant, lang="all"):
    return {"model": model, "arm": arm, "reference": reference, "task": task, "lang": lang, "delta": value,
            "ci_low": value - 1.0, "ci_high": value + 1.0, "significant": significant}


DELTAS = [
    delta("m", "mnli_x", "none", "xnli", 3.0, True), delta("m", "mnli_x", "none", "panx", 1.46, False),
    delta("m", "mnli_x", "none", "all", 1.7, False),
    delta("m", "mnli_x", "none", "xnli", 9.9, True, lang="de"),  # per-language rows are for the heat maps
    delta("m", "mnli_x", "other", "xnli", 9.9, True),  # another reference is not the baseline
]


def test_xtreme_table_with_deltas_to_the_baseline():
    text = xtreme_table(SCORES, models=["m"], arms=["none", "mnli_x"], tasks=["xnli", "panx"],
                        headers={"xnli": "XNLI", "panx": "NER"}, deltas=DELTAS)
    lines = text.splitlines()
    assert lines[4] == GOLDEN.splitlines()[4].replace("None (baseline)", "none")  # the baseline: no delta
    assert lines[5] == (r"mnli\_x & 84.0 {\scriptsize $\pm$ 1.4} {\scriptsize ($+3.0^{\dagger}$)} & "
                        r"62.0 {\scriptsize ($+1.5$)} & 72.5 {\scriptsize ($+1.7$)} \\")
    assert lines[6] == r"\bottomrule"
    assert lines[7].startswith(r"\multicolumn{4}{l}{\footnotesize In parentheses: the difference to the baseline "
                               r"(none) in points; $^\dagger$ its 95\% paired bootstrap")
    assert lines[8:] == [r"\end{tabular}"]


def test_xtreme_table_negative_delta_and_missing_delta():
    deltas = [delta("m", "mnli_x", "none", "xnli", -2.04, True)]
    text = xtreme_table(SCORES, models=["m"], arms=["mnli_x"], tasks=["xnli", "panx"], headers={}, deltas=deltas)
    assert text.splitlines()[4] == (r"mnli\_x & 84.0 {\scriptsize $\pm$ 1.4} {\scriptsize ($-2.0^{\dagger}$)} & "
                                    r"62.0 & 72.5 \\")


def test_deltas_round_trip(tmp_path):
    path = tmp_path / "deltas.csv"
    write_deltas(path, DELTAS)
    assert path.read_text().splitlines()[0] == ",".join(DELTA_FIELDS)
    assert read_deltas(path) == DELTAS


RQ_SCORES = [
    row("m", arm, seed, task, value)
    for arm, base in {"none": 70.0, "mnli": 74.0, "squad": 72.0, "mnli_mt": 76.0, "mlm": 71.0}.items()
    for seed, noise in ((1, -1.0), (2, 1.0))
    for task, value in (("xnli", base + noise), ("xquad", base - 10 + noise + (5.0 if base == 72.0 else 0.0)))
]
KINDS = {"none": "baseline", "mnli": "english", "squad": "english", "mnli_mt": "multilingual", "mlm": "mlm"}
RQ_DELTAS = [
    delta("m", "mnli_mt", "mnli", "xnli", 2.0, True), delta("m", "mnli_mt", "squad", "xquad", -1.0, False),
    delta("m", "mlm", "mnli", "xnli", -3.0, True), delta("m", "mlm", "squad", "xquad", -6.0, True),
    delta("m", "mnli_mt", "squad", "all", 0.5, False), delta("m", "mlm", "squad", "all", -4.5, True),
    # comparisons with arms that are not the best English-only arm of the row are not shown
    delta("m", "mnli_mt", "squad", "xnli", 4.0, True), delta("m", "mnli_mt", "mnli", "all", 1.0, True),
]


def test_research_table_picks_the_best_english_arm_per_task():
    text = research_question_table(RQ_SCORES, RQ_DELTAS, ["m"], list(KINDS), KINDS, ["xnli", "xquad"],
                                   {"xnli": "XNLI", "xquad": "XQuAD"})
    lines = text.splitlines()
    assert lines[0] == r"\begin{tabular}{lccccc}"
    assert lines[2] == r"Target task & Baseline & Best English-only & Score & mnli\_mt & mlm (MLM) \\"
    pm = r" {\scriptsize $\pm$ 1.4}"
    # XNLI: mnli (74) beats squad (72); XQuAD: squad (67) beats mnli (64); Avg: squad (69.5) beats mnli (69)
    assert lines[4] == (rf"XNLI & 70.0{pm} & mnli & 74.0{pm} & 76.0{pm} {{\scriptsize ($+2.0^{{\dagger}}$)}} & "
                        rf"71.0{pm} {{\scriptsize ($-3.0^{{\dagger}}$)}} \\")
    assert lines[5] == (rf"XQuAD & 60.0{pm} & squad & 67.0{pm} & 66.0{pm} {{\scriptsize ($-1.0$)}} & "
                        rf"61.0{pm} {{\scriptsize ($-6.0^{{\dagger}}$)}} \\")
    assert lines[6] == (rf"Avg & 65.0{pm} & squad & 69.5{pm} & 71.0{pm} {{\scriptsize ($+0.5$)}} & "
                        rf"66.0{pm} {{\scriptsize ($-4.5^{{\dagger}}$)}} \\")
    assert lines[7] == r"\bottomrule"
    assert "Best English-only: per row, the English-only intermediate arm with the highest mean" in lines[8]


def test_research_table_without_multilingual_arms_says_so():
    kinds = {"none": "baseline", "mnli": "english", "squad": "english"}
    table = build_research_table(RQ_SCORES, [], ["m"], list(kinds), kinds, ["xnli", "xquad"], {})
    assert table.header == ["Target task", "Baseline", "Best English-only", "Score"]
    assert table.body[0] == Span(NO_MULTILINGUAL, "note")
    assert [r[2] for r in table.body[1:]] == ["mnli", "squad", "squad"]
    assert table.footnote is None
    lines = render_latex(table).splitlines()
    assert lines[4] == rf"\multicolumn{{4}}{{l}}{{{NO_MULTILINGUAL}}} \\"
    assert lines[5].startswith("xnli & 70.0") and lines[-2] == r"\bottomrule"


def test_research_table_without_english_arms_and_with_several_models():
    kinds = {"none": "baseline", "mnli_mt": "multilingual"}
    rows = RQ_SCORES + [row("m2", "none", 1, "xnli", 50.0), row("m2", "mnli_mt", 1, "xnli", 55.0)]
    table = build_research_table(rows, [], ["m", "m2"], list(kinds), kinds, ["xnli"], {})
    assert table.body[0] == Span("m") and table.body[3] == Span("m2")
    xnli_m2 = table.body[4]
    assert xnli_m2[:3] == ["xnli", Score((50.0,)), "--"] and xnli_m2[3] == Score(())
    assert xnli_m2[4] == Score((55.0,))  # no English arm: no delta
    assert render_latex(table).splitlines()[4 + 3] == r"\midrule"


def test_html_rendering_matches_the_table():
    table = build_xtreme_table(SCORES, ["m", "other"], ["none", "mnli_x"], ["xnli", "panx"],
                               {"xnli": "XNLI", "panx": "NER & <POS>"}, deltas=DELTAS)
    page = render_html(table, "Scores <all>")
    assert page.startswith("<!DOCTYPE html>") and "<title>Scores &lt;all&gt;</title>" in page
    assert "<th>NER &amp; &lt;POS&gt;</th>" in page
    assert '<tr class="group"><th colspan="4">other</th></tr>' in page
    assert ("<tr><td>mnli_x</td><td>84.0 ± 1.4 <span class=\"delta\">(+3.0†)</span></td>"
            "<td>62.0 <span class=\"delta\">(+1.5)</span></td>") in page
    assert "<td>--</td>" in page  # model "other" has no mnli_x scores
    assert '<p class="note">In parentheses: the difference to the baseline (none) in points; †' in page
    negative = render_html(Table(["a", "b"], [["x", Score((1.0,), -0.5, False)]]), "t")
    assert '<td>1.0 <span class="delta">(\u22120.5)</span></td>' in negative
