"""The demo through Snakemake up to the paper's statistics: per-example statistics next to every score,
results/deltas.csv, both tables, the per-language delta heat maps, and `snakemake --report` embedding them."""

import base64
import json
import re
from pathlib import Path

import pytest
from demo_workflow import snakemake

from xstilts.config import BASELINE_ARM, load_config
from xstilts.metrics import scores_from_stats
from xstilts.score import read_stats
from xstilts.tables import DELTA_FIELDS, NO_MULTILINGUAL, latex_escape, read_deltas

REPO = Path(__file__).resolve().parents[2]
GRID = load_config(REPO / "profiles/demo/demo.yaml")
MODEL = GRID.models[0]
ARMS = [a for a in GRID.arms if a != BASELINE_ARM]
MULTILINGUAL = [a for a in GRID.arms if GRID.arm_kind(a) in ("multilingual", "mlm")]
ENGLISH = [a for a in GRID.arms if GRID.arm_kind(a) == "english"]

pytestmark = pytest.mark.workflow



def test_every_score_has_statistics_that_sum_to_it(demo_run):
    for arm in GRID.arms:
        for seed in GRID.seeds:
            for task in GRID.targets:
                for lang in GRID.languages(task):
                    base = demo_run / f"results/scores/{MODEL}/{arm}/seed{seed}/{task}/{lang}"
                    reported = json.loads(base.with_suffix(".json").read_text())["metrics"]
                    assert scores_from_stats(read_stats(base.with_suffix(".stats.npz"))) == reported, base


def test_deltas_csv(demo_run):
    path = demo_run / "results/deltas.csv"
    assert path.read_text().splitlines()[0] == ",".join(DELTA_FIELDS)
    rows = read_deltas(path)
    pairs = [(a, BASELINE_ARM) for a in ARMS] + [(a, e) for a in MULTILINGUAL for e in ENGLISH]
    expected = [(MODEL, arm, ref, task, lang) for arm, ref in pairs
                for task in GRID.targets for lang in [*GRID.languages(task), "all"]]
    expected += [(MODEL, arm, ref, "all", "all") for arm, ref in pairs]
    assert sorted((r["model"], r["arm"], r["reference"], r["task"], r["lang"]) for r in rows) == sorted(expected)
    for r in rows:
        assert r["ci_low"] <= r["ci_high"] and r["significant"] == (r["ci_low"] > 0 or r["ci_high"] < 0), r
        assert -100 <= r["delta"] <= 100


def table_rows(text):
    return {line.split(" & ")[0]: line.removesuffix(r" \\").split(" & ")[1:]
            for line in text.splitlines() if " & " in line}


def test_main_table_shows_deltas_to_the_baseline(demo_run):
    text = (demo_run / "paper/tables/xtreme.tex").read_text()
    rows = table_rows(text)
    score = r"\d+\.\d \{\\scriptsize \$\\pm\$ \d+\.\d\}"
    for arm in GRID.arms:
        cells = rows[latex_escape(arm)]
        assert len(cells) == len(GRID.targets) + 1
        suffix = "" if arm == BASELINE_ARM else r" \{\\scriptsize \(\$[+-]\d+\.\d(\^\{\\dagger\})?\$\)\}"
        assert all(re.fullmatch(score + suffix, c) for c in cells), (arm, cells)
    assert r"\footnotesize In parentheses: the difference to the baseline (none)" in text


def test_research_question_table(demo_run):
    text = (demo_run / "paper/tables/research_question.tex").read_text()
    rows = table_rows(text)
    header = rows.pop("Target task")
    assert header[:3] == ["Baseline", "Best English-only", "Score"]
    assert len(rows) == len(GRID.targets) + 1 and "Avg" in rows
    for cells in rows.values():
        assert cells[1] in ENGLISH
    if MULTILINGUAL:
        assert len(header) == 3 + len(MULTILINGUAL)
    else:
        assert NO_MULTILINGUAL in text and len(header) == 3


def test_heat_maps_and_their_latex(demo_run):
    figures = (demo_run / "paper/figures/deltas.tex").read_text()
    for arm in ARMS:
        pdf = demo_run / f"paper/figures/delta-{MODEL}-{arm}.pdf"
        png = pdf.with_suffix(".png")
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5_000
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        assert f"\\includegraphics[width=\\linewidth]{{figures/delta-{MODEL}-{arm}.pdf}}" in figures
    assert not (demo_run / f"paper/figures/delta-{MODEL}-{BASELINE_ARM}.png").exists()


def embedded_files(page):
    """{file name: bytes} of every result embedded in a self-contained Snakemake report."""
    found = re.findall(r"data:[^;\"]+;charset=[^;\"]+;filename=([^;\"]+);base64,([A-Za-z0-9+/=]+)", page)
    return {name: base64.b64decode(data) for name, data in found}


def test_snakemake_report_embeds_the_tables_and_figures(demo_run):
    report = demo_run / "report.html"
    snakemake(demo_run, "--report", str(report))
    page = report.read_text()
    files = embedded_files(page)
    for name in ("xtreme.html", "research_question.html", "deltas.csv"):
        assert name in files, sorted(files)
    assert files["xtreme.html"] == (demo_run / "paper/tables/xtreme.html").read_bytes()
    assert files["research_question.html"] == (demo_run / "paper/tables/research_question.html").read_bytes()
    for arm in ARMS:
        png = demo_run / f"paper/figures/delta-{MODEL}-{arm}.png"
        assert files[png.name] == png.read_bytes()
    for caption in ("Per-language difference of", "best English-only arm", "paired bootstrap"):
        assert caption in page
    assert "X-STILTs on XTREME" in page  # report/workflow.rst
