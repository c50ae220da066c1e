"""The embedded demo through Snakemake, end to end: every stage, the official prediction layout, scores, table."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from demo_workflow import snakemake

from xstilts.tables import read_scores

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
DEMO_CONFIG = yaml.safe_load((REPO / "profiles/demo/demo.yaml").read_text())
ARMS, SEEDS, TARGETS = DEMO_CONFIG["grid"]["arms"], DEMO_CONFIG["grid"]["seeds"], DEMO_CONFIG["grid"]["targets"]
LANGS = {"xnli": ["de", "en", "ru"], "panx": ["de", "en", "ru"], "xquad": ["de", "en", "ru"], "tatoeba": ["de", "ru"]}
SUFFIX = {"xnli": "tsv", "panx": "tsv", "xquad": "json", "tatoeba": "tsv"}

pytestmark = pytest.mark.workflow



def test_table_has_every_arm_and_target(demo_run):
    table = (demo_run / "paper/tables/xtreme.tex").read_text()
    header = next(line for line in table.splitlines() if line.startswith("Intermediate task"))
    assert header.split(" & ")[1:] == ["XNLI", "NER", "XQuAD", "Tatoeba", r"Avg \\"]
    rows = {line.split(" & ")[0]: line for line in table.splitlines() if " & " in line and "Intermediate" not in line}
    assert set(rows) == set(ARMS)
    for arm, row in rows.items():
        cells = row.removesuffix(r" \\").split(" & ")[1:]
        assert len(cells) == len(TARGETS) + 1
        # mean {± std}, then (the difference to the baseline, † if significant; tests/workflow/test_report.py)
        assert all(re.match(r"\d+\.\d \{\\scriptsize \$\\pm\$ \d+\.\d\}", c) for c in cells), row


def test_predictions_and_gold_in_the_official_layout(demo_run):
    for task in TARGETS:
        for lang in LANGS[task]:
            gold = demo_run / f"results/gold/{task}/test-{lang}.{SUFFIX[task]}"
            assert gold.is_file()
            for arm in ARMS:
                for seed in SEEDS:
                    pred = demo_run / f"results/predictions/tiny-xlmr/{arm}/seed{seed}/{task}/test-{lang}.{SUFFIX[task]}"
                    assert pred.is_file(), pred
                    if SUFFIX[task] == "tsv":
                        assert len(pred.read_text().splitlines()) == len(gold.read_text().splitlines())


def test_a_score_file_per_task_and_language_and_one_aggregate(demo_run):
    for arm in ARMS:
        for seed in SEEDS:
            for task in TARGETS:
                for lang in LANGS[task]:
                    assert (demo_run / f"results/scores/tiny-xlmr/{arm}/seed{seed}/{task}/{lang}.json").is_file()
    rows = read_scores(demo_run / "results/scores.csv")
    headline = {(r["arm"], r["seed"], r["task"]) for r in rows if r["lang"] == "all" and r["metric"] == "avg_metric"}
    assert headline == {(a, s, t) for a in ARMS for s in SEEDS for t in TARGETS}


def test_learnable_demo_data_is_learned(demo_run):
    rows = read_scores(demo_run / "results/scores.csv")
    xnli = [r["value"] for r in rows if r["task"] == "xnli" and r["lang"] == "all" and r["metric"] == "avg_metric"]
    assert min(xnli) > 60.0, xnli  # chance is 33.3


def test_intermediate_and_target_training_ran_deepspeed(demo_run):
    summaries = list(demo_run.glob("models/*/tiny-xlmr/*/seed*/**/train_summary.json"))
    assert len(summaries) == (len(ARMS) - 1) * len(SEEDS) + len(ARMS) * len(SEEDS) * 3
    assert all('"deepspeed": "zero2"' in s.read_text() for s in summaries)


def test_every_model_prediction_and_score_directory_carries_its_provenance(demo_run):
    import json

    run = "tiny-xlmr/mix:de-ru/seed1"
    directories = [f"models/intermediate/{run}", f"models/finetuned/{run}/xnli", f"results/predictions/{run}/xnli",
                   f"results/predictions/{run}/tatoeba", f"results/scores/{run}/xnli"]
    for directory in directories:
        record = json.loads((demo_run / directory / "provenance.json").read_text())
        assert {"config", "seed", "packages", "git", "inputs", "started", "finished", "hardware"} <= set(record)
        assert record["packages"]["xstilts"] and record["started"] <= record["finished"], directory
        assert record["inputs"] and all(len(i["sha256"]) == 64 for i in record["inputs"].values()), directory
    intermediate = json.loads((demo_run / directories[0] / "provenance.json").read_text())
    assert intermediate["seed"] == 1 and set(intermediate["config"]["tasks"]) >= {"mnli-de", "squad-ru-mt"}


def test_nothing_left_to_do_after_a_run(demo_run):
    result = snakemake(demo_run, "-n")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_lint_is_clean():
    result = subprocess.run([*SNAKEMAKE, "--lint", "--configfile", "profiles/demo/demo.yaml"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["grid"]["targets"].append("xnlii"), "config key grid.targets: unknown 'xnlii'; allowed: "),
    (lambda c: c["grid"].update(languages=["en", "qq"]), "config key grid.languages: unknown 'qq'; allowed: "),
    (lambda c: c["grid"].update(models=["xlm-roberta-huge"]), "config key grid.models: unknown 'xlm-roberta-huge'"),
    (lambda c: c["grid"].update(seeds="1"), "seeds"),
])
def test_bad_config_fails_before_any_job(tmp_path, edit, message):
    config = yaml.safe_load((REPO / "profiles/demo/demo.yaml").read_text())
    edit(config)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = subprocess.run([*SNAKEMAKE, "-n", "--directory", str(tmp_path), "--configfile", str(bad),
                             "--replace-workflow-config"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_training_reads_only_training_splits(demo_dir):
    """No job trains on anything but a training split (English, native non-English, or translated from the
    English one): test data never reach a training job, and target fine-tuning reads English only."""
    result = snakemake(demo_dir, "-n", "--forceall", "--printshellcmds")
    commands = [line for line in result.stdout.splitlines() if "-m xstilts train" in line]
    intermediate = [c for c in commands if "models/intermediate/" in c.split("--output")[1]]
    assert len(commands) - len(intermediate) == len(ARMS) * len(SEEDS) * 3
    assert len(intermediate) == (len(ARMS) - 1) * len(SEEDS)
    for command in commands:
        data = re.search(r"--data (.*?) --output", command).group(1).split()
        if command in intermediate:
            allowed = r"[\w-]+=(data/prepared/\w+/[a-z]{2,3}/train\.jsonl|data/translated/[\w.-]+/\w+/[a-z]{2,3}/shard\d+\.jsonl)"
        else:
            allowed = r"\w+=data/prepared/\w+/en/train\.jsonl"
        assert data and all(re.fullmatch(allowed, d) for d in data), command
