"""Against a real Slurm cluster (.ci/slurm-up.sh: two virtual nodes on this machine): the demo through
`--profile profiles/slurm` plus the CI override, a two-node DeepSpeed training step launched through srun, and
training jobs that stop at their time limit and are resumed by Snakemake's retry.

Locally these tests skip when no cluster answers; CI sets XSTILTS_REQUIRE_SLURM=1, which turns the skip into
a failure.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _cluster_answers() -> bool:
    if not shutil.which("sinfo"):
        return False
    return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=20).returncode == 0


if not _cluster_answers():
    if os.environ.get("XSTILTS_REQUIRE_SLURM") == "1":
        raise RuntimeError("XSTILTS_REQUIRE_SLURM=1 but no Slurm cluster answers `sinfo`: run .ci/slurm-up.sh and "
                           "source its env.sh first")
    pytest.skip("no Slurm cluster answers `sinfo` (bring one up with .ci/slurm-up.sh, then source "
                ".slurm-ci/env.sh)", allow_module_level=True)

pytestmark = pytest.mark.slurm
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory):
    from xstilts.demo import build_demo

    demo_dir = tmp_path_factory.mktemp("slurm-demo")  # its own directory: the workflow tests use demo_dir
    build_demo(demo_dir)
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", "--profile", "tests/slurm/profile",
         "--directory", str(demo_dir)],
        cwd=REPO, capture_output=True, text=True, env=ENV, timeout=1800)
    assert result.returncode == 0, result.stderr[-6000:]
    return demo_dir, result.stderr


def test_demo_slice_runs_through_the_slurm_profile(slurm_run):
    workdir, log = slurm_run
    assert "Job " in log and "has been submitted with SLURM jobid" in log
    table = (workdir / "paper/tables/xtreme.tex").read_text()
    assert "XNLI & Tatoeba & Avg" in table
    for arm in ("none", "mnli"):
        for task, langs in (("xnli", ("en", "ru")), ("tatoeba", ("ru",))):
            for lang in langs:
                assert (workdir / f"results/predictions/tiny-xlmr/{arm}/seed1/{task}/test-{lang}.tsv").is_file()
    assert list((workdir / ".snakemake/slurm_logs").rglob("*.log")), "the Slurm logs of successful jobs are kept"


def test_training_stopped_at_its_time_limit_is_resumed_by_the_retry(slurm_run):
    workdir, log = slurm_run
    summaries = list(workdir.glob("models/*/tiny-xlmr/*/seed1/**/train_summary.json"))
    assert len(summaries) == 3  # intermediate mnli; xnli fine-tuned from none and from mnli
    for path in summaries:
        summary = json.loads(path.read_text())
        assert summary["resumed_from"] and "checkpoint-1" in summary["resumed_from"], path


def test_two_node_deepspeed_training_through_srun(demo_dir, prepared, tmp_path):
    config = {"lr": 1e-3, "epochs": 1, "batch_size": 16, "seed": 1, "deepspeed": "zero2", "bf16": False,
              "save_steps": 1000, "tasks": {"mnli": {"max_length": 64}}}
    train = (f"{sys.executable} -m xstilts train --init {demo_dir / 'tiny-xlmr'} "
             f"--data mnli={prepared('mnli', 'en', 'train')} --output {tmp_path / 'model'} "
             f"--checkpoints {tmp_path / 'ckpt'} --config '{json.dumps(config)}'")
    # the pattern of rules/train.smk on a multi-node model: one task per node here (one "GPU" each), the inner
    # srun repeating --cpus-per-task
    wrap = f"srun --nodes=2 --ntasks=2 --ntasks-per-node=1 --cpus-per-task=1 --kill-on-bad-exit=1 {train}"
    result = subprocess.run(["sbatch", "--parsable", "--wait", "--nodes=2", "--ntasks=2", "--ntasks-per-node=1",
                             "--time=10", f"--output={tmp_path / 'job.log'}", "--wrap", wrap],
                            capture_output=True, text=True, env={**ENV, "PYTHONPATH": str(REPO / "src")}, timeout=900)
    job_log = (tmp_path / "job.log").read_text() if (tmp_path / "job.log").exists() else ""
    assert result.returncode == 0, result.stderr + job_log[-4000:]
    job = subprocess.run(["scontrol", "show", "job", result.stdout.strip().split(";")[0], "--oneliner"],
                         capture_output=True, text=True).stdout
    assert "NodeList=n[1-2]" in job
    summary = json.loads((tmp_path / "model" / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["deepspeed"] == "zero2"
    assert "rank1" in job_log


def test_partitions_the_cluster_lacks_fail_before_any_job_is_submitted(tmp_path):
    from xstilts.demo import build_demo

    build_demo(tmp_path)
    before = subprocess.run(["squeue", "-h", "--states=all", "-o", "%i"], capture_output=True, text=True).stdout
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", "--directory", str(tmp_path),
         "--configfile", "tests/slurm/demo-slice.yaml", "--replace-workflow-config", "--slurm-status-command",
         "squeue"], cwd=REPO, capture_output=True, text=True, env=ENV, timeout=600)
    assert result.returncode != 0
    assert "Slurm settings do not fit this cluster" in result.stderr
    assert "partition 'cpu' does not exist on this cluster (partitions: debug)" in result.stderr
    after = subprocess.run(["squeue", "-h", "--states=all", "-o", "%i"], capture_output=True, text=True).stdout
    assert before == after, "no job may be submitted"
