"""Precise partial reruns, on a real tiny run: after an edit, `snakemake -n` plans exactly the jobs the edit
touches (the target task's or arm's chain plus the aggregate tables and figures), and nothing after a cosmetic
edit.

The run uses its own copy of the xstilts package (first on PYTHONPATH), so a test can edit a task's module the
way a user would without touching the repository."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.workflow

TARGETS = ["xnli", "panx"]
ARMS = ["none", "en:mnli", "en:squad"]
SEED = 1


class Run:
    def __init__(self, root: Path, demo_dir: Path):
        self.root = root
        self.workdir = root / "work"
        self.package = root / "pkg"
        shutil.copytree(REPO / "src" / "xstilts", self.package / "xstilts",
                        ignore=shutil.ignore_patterns("__pycache__"))
        self.config_file = root / "config.yaml"
        config = yaml.safe_load((REPO / "profiles/demo/demo.yaml").read_text())
        config["grid"].update(arms=ARMS, targets=TARGETS, languages=["en", "de"], seeds=[SEED])
        config["arms"] = {arm: config["arms"][arm] for arm in ARMS}
        config["targets"] = {task: config["targets"][task] for task in TARGETS}
        config["download"]["mirror"] = str(demo_dir / "mirror")
        config["models"]["tiny-xlmr"].update(path=str(demo_dir / "tiny-xlmr"), deepspeed=None)
        config.pop("translation", None)
        self.config = config
        self.write_config()

    def write_config(self, comment: str = "") -> None:
        self.config_file.write_text(comment + yaml.safe_dump(self.config, sort_keys=False))

    def snakemake(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(self.package),
               "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        result = subprocess.run(
            [sys.executable, "-m", "snakemake", "--cores", "2", "--directory", str(self.workdir),
             "--configfile", str(self.config_file), "--replace-workflow-config", *args],
            cwd=REPO, capture_output=True, text=True, env=env, timeout=1800)
        if result.returncode != 0:
            raise AssertionError(f"snakemake {' '.join(args)} exited {result.returncode}:\n{result.stderr[-6000:]}")
        return result

    def planned(self) -> set[tuple[str, str]]:
        """(rule, first output) of every job a dry run plans."""
        out = self.snakemake("-n").stdout
        jobs = set()
        for match in re.finditer(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    output: ([^,\n]+)", out, re.M):
            jobs.add((match.group(1), match.group(2)))
        if not jobs:
            assert "Nothing to be done" in out, out[-3000:]
        return jobs


@pytest.fixture(scope="module")
def run(demo_dir, tmp_path_factory):
    r = Run(tmp_path_factory.mktemp("reruns"), demo_dir)
    r.snakemake()
    return r


# jobs of no single task or arm: they read every score
AGGREGATE_PREFIXES = ("results/scores.csv", "results/deltas.csv", "paper/")


def split_aggregate(jobs):
    aggregate = {job for job in jobs if job[1].startswith(AGGREGATE_PREFIXES)}
    return jobs - aggregate, aggregate


def test_nothing_to_do_after_a_run_and_after_a_comment(run):
    assert run.planned() == set()
    run.write_config(comment="# a note on the setup\n")
    assert run.planned() == set()


def test_a_target_hyperparameter_reruns_that_task_only(run):
    old = run.config["targets"]["xnli"]["lr"]
    run.config["targets"]["xnli"]["lr"] = old / 2
    run.write_config()
    try:
        own, aggregate = split_aggregate(run.planned())
    finally:
        run.config["targets"]["xnli"]["lr"] = old
        run.write_config()
    prefix = {"finetune": "models/finetuned", "predict": "results/predictions", "score": "results/scores"}
    expected = {(rule, f"{prefix[rule]}/tiny-xlmr/{arm}/seed{SEED}/xnli") for rule in prefix for arm in ARMS}
    assert own == expected
    assert "aggregate" in {rule for rule, _ in aggregate}
    assert run.planned() == set()  # the edit undone: nothing again


def test_an_arm_setting_reruns_that_arm_only(run):
    arm = "en:mnli"
    old = run.config["arms"][arm]["lr"]
    run.config["arms"][arm]["lr"] = old / 2
    run.write_config()
    try:
        own, aggregate = split_aggregate(run.planned())
    finally:
        run.config["arms"][arm]["lr"] = old
        run.write_config()
    assert ("intermediate", f"models/intermediate/tiny-xlmr/{arm}/seed{SEED}") in own
    assert {path.split("/")[3] for _, path in own} == {arm}  # every job is of that arm's chain
    assert {rule for rule, _ in own} == {"intermediate", "finetune", "predict", "score"}
    assert {path.rsplit("/", 1)[1] for rule, path in own if rule == "predict"} == set(TARGETS)
    assert aggregate


def test_editing_a_task_module_reruns_that_task_only(run):
    module = run.package / "xstilts" / "tasks" / "panx.py"
    original = module.read_text()
    module.write_text(original + "# a change to how PAN-X is read\n")
    try:
        own, aggregate = split_aggregate(run.planned())
    finally:
        module.write_text(original)
    assert own, "an edited task module must rerun its task"
    assert all("panx" in path for _, path in own), own
    assert {"prepare", "gold", "finetune", "predict", "score"} <= {rule for rule, _ in own}
    assert run.planned() == set()  # same content again: checksums match, nothing to do
