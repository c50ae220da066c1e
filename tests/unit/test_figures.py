"""Tests for xstilts.figures: the per-language delta grid behind each heat map, the PDF and PNG files, and the
LaTeX that puts them into paper/main.tex."""

import math
import struct

import numpy as np
import pytest

from xstilts.figures import delta_grid, delta_heatmap, figures_tex

TASKS = ["xnli", "tatoeba"]
LANGUAGES = {"xnli": ["en", "de", "ru"], "tatoeba": ["de", "ru"]}


def delta(arm, task, lang, value, significant=False, model="m", reference="none"):
    return {"model": model, "arm": arm, "reference": reference, "task": task, "lang": lang, "delta": value,
            "ci_low": value - 1, "ci_high": value + 1, "significant": significant}


DELTAS = [
    delta("mnli", "xnli", "en", 2.0, True), delta("mnli", "xnli", "de", -1.5), delta("mnli", "xnli", "ru", 0.5),
    delta("mnli", "xnli", "all", 0.33), delta("mnli", "tatoeba", "de", -4.0, True),
    delta("mnli", "tatoeba", "ru", 1.0), delta("mnli", "tatoeba", "all", -1.5, True),
    delta("mnli", "all", "all", -0.6),  # the overall average has no row in the map
    # other arms, models and references are not drawn
    delta("squad", "xnli", "en", 9.0), delta("mnli", "xnli", "en", 9.0, model="other"),
    delta("mnli", "xnli", "en", 9.0, reference="squad"),
]


def test_delta_grid():
    columns, values, significant = delta_grid(DELTAS, "m", "mnli", "none", TASKS, LANGUAGES)
    assert columns == ["avg", "de", "en", "ru"]
    expected = [[0.33, -1.5, 2.0, 0.5], [-1.5, -4.0, math.nan, 1.0]]
    assert np.array_equal(values, np.array(expected), equal_nan=True)
    assert significant.tolist() == [[False, False, True, False], [True, True, False, False]]


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_heatmap_files(tmp_path):
    outputs = [tmp_path / "figures" / "delta-m-mnli.pdf", tmp_path / "figures" / "delta-m-mnli.png"]
    delta_heatmap(DELTAS, "m", "mnli", "none", TASKS, LANGUAGES, {"xnli": "XNLI", "tatoeba": "Tatoeba"}, outputs)
    pdf, png = outputs
    assert pdf.read_bytes()[:5] == b"%PDF-" and 5_000 < pdf.stat().st_size < 500_000
    width, height = png_size(png)
    assert 300 < width < 2000 and 150 < height < 1000 and width > height  # 4 columns, 2 rows
    assert 10_000 < png.stat().st_size < 1_000_000


def test_heatmap_grows_with_the_languages(tmp_path):
    languages = {"xnli": [f"l{i:02d}" for i in range(40)], "tatoeba": ["l00"]}
    deltas = [delta("mnli", "xnli", lang, (i - 20) / 4, i % 7 == 0) for i, lang in enumerate(languages["xnli"])]
    delta_heatmap(deltas, "m", "mnli", "none", TASKS, languages, {}, [tmp_path / "wide.png"])
    width, _ = png_size(tmp_path / "wide.png")
    assert width > 2500


def test_heatmap_without_deltas_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no deltas of m/absent against none for tasks xnli, tatoeba"):
        delta_heatmap(DELTAS, "m", "absent", "none", TASKS, LANGUAGES, {}, [tmp_path / "x.png"])
    assert not (tmp_path / "x.png").exists()


def test_figures_tex():
    figures = [("m", "mnli", "figures/delta-m-mnli.pdf"), ("m", "a_b", "figures/delta-m-a_b.pdf"),
               ("m2", "mnli", "figures/delta-m2-mnli.pdf")]
    text = figures_tex(figures, "none", per_page=2)
    assert text.count("\\begin{figure}[p]") == 3
    assert "\\includegraphics[width=\\linewidth]{figures/delta-m-a_b.pdf}" in text
    assert "training on a\\_b to the baseline (none)" in text
    # a page break after every second figure and after the last
    assert text.count("\\clearpage") == 2 and text.rstrip().endswith("\\clearpage")
    assert figures_tex([], "none") == "\n"
