"""The scoring benchmark (bench/score_xtreme.py) on a tiny synthetic set: its files are in the official
layout and read back by xstilts.predfiles, and every task scores to a plausible number, so the benchmark
keeps measuring real work as the readers and metrics change."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from xstilts.predfiles import read_for_scoring

BENCH = Path(__file__).resolve().parents[2] / "bench" / "score_xtreme.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_score_xtreme", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.fixture(scope="module")
def data(bench, tmp_path_factory):
    root = tmp_path_factory.mktemp("bench-scoring")
    bench.ensure_data(root, seed=1, scale=0.003, regenerate=False)
    return root


def test_every_task_and_language_has_files_our_reader_accepts(bench, data):
    for task, langs in bench.TASK2LANGS.items():
        spec = bench.SPECS[task]
        for lang in langs:
            name = f"test-{lang}.{spec.suffix}"
            gold, pred = read_for_scoring(spec.kind, data / "pred" / task / name, data / "gold" / task / name)
            assert gold and pred, (task, lang)


def test_qa_gold_answers_are_spans_of_their_context(bench, data):
    for task in ("xquad", "mlqa", "tydiqa"):
        for lang in bench.TASK2LANGS[task]:
            gold = json.loads((data / "gold" / task / f"test-{lang}.json").read_text(encoding="utf-8"))
            for article in gold["data"]:
                for paragraph in article["paragraphs"]:
                    for qa in paragraph["qas"]:
                        for answer in qa["answers"]:
                            start = answer["answer_start"]
                            assert paragraph["context"][start : start + len(answer["text"])] == answer["text"]


def test_scores_are_mostly_right_but_not_perfect(bench, data):
    detailed = {task: bench.ours_task(task, data / "pred", data / "gold") for task in bench.TASK2LANGS}
    overall = bench.ours_groups(detailed)
    assert set(overall) == {"all_task", *bench.GROUPS}
    assert 40 < overall["all_task"] < 95
    for task, summary in detailed.items():
        assert 0 < summary["avg_metric"] < 100, task


def test_main_runs_without_the_official_scorer(bench, data, capsys):
    assert bench.main(["--data", str(data), "--seed", "1", "--scale", "0.003", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "total" in out and "udpos" in out
