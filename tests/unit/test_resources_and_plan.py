"""Slurm resources derived from a model's config entry, and the plan's fit check and GPU-hours."""

import copy
from pathlib import Path

import pytest
import yaml

from xstilts.config import ConfigError, check_config, load_config
from xstilts.plan import fit_errors, job_hours, memory
from xstilts.resources import launcher, predict_resources, train_resources

REPO = Path(__file__).resolve().parents[2]
PAPER = yaml.safe_load((REPO / "config.yaml").read_text())


def test_single_gpu_model_runs_one_process_without_srun():
    cfg = PAPER["models"]["xlm-roberta-large"]
    res = train_resources(cfg, attempt=1)
    assert res["gres"] == "gpu:1" and res["tasks"] == 1 and res["tasks_per_gpu"] == 0
    assert "mpi" not in res and launcher(cfg) == ""
    assert res["runtime"] == 1440 and train_resources(cfg, attempt=3)["runtime"] == 3 * 1440


def test_multi_node_model_gets_one_task_per_gpu_through_srun():
    cfg = PAPER["models"]["xlm-roberta-xxl"]  # 2 nodes x 4 GPUs
    res = train_resources(cfg, attempt=1)
    assert (res["nodes"], res["tasks"], res["gres"], res["mpi"]) == (2, 8, "gpu:4", "srun")
    assert res["tasks_per_gpu"] == 0  # else the plugin turns tasks into --ntasks-per-gpu (plugin #316)
    assert res["slurm_extra"] == "--ntasks-per-node=4"
    assert res["mem_mb"] == 96 * 4 * 1024
    # the inner srun repeats --cpus-per-task: Slurm >= 22.05 no longer passes it down (plugin #41)
    assert launcher(cfg) == "srun --nodes=2 --ntasks=8 --ntasks-per-node=4 --cpus-per-task=8 --kill-on-bad-exit=1"


def test_cpu_model_has_no_gpu_resources():
    res = train_resources({"path": "tiny"}, attempt=1)
    assert not {"gres", "nodes", "tasks", "mpi"} & set(res)
    assert "gres" not in predict_resources({"path": "tiny"}, attempt=1)


def test_paper_config_plans_and_fits():
    grid = load_config(REPO / "config.yaml")
    assert fit_errors(grid) == []
    rows = job_hours(grid)
    assert {job.split()[0] for _, job, _ in rows} == {"intermediate", "finetune", "predict"}
    assert all(hours > 0 for *_, hours in rows)


def test_a_model_that_does_not_fit_fails_at_load_naming_it_and_what_fits():
    config = copy.deepcopy(PAPER)
    config["grid"]["models"] = ["xlm-roberta-xxl"]
    config["models"]["xlm-roberta-xxl"]["deepspeed"] = "zero0"
    with pytest.raises(ConfigError) as error:
        check_config(config)
    message = str(error.value)
    assert message.startswith("config key models.xlm-roberta-xxl: zero0 needs about 200 GiB per GPU")
    assert "stages that fit: zero2, zero2_offload, zero3, zero3_offload" in message


def test_offload_and_checkpointing_shrink_memory():
    grid = check_config(copy.deepcopy(PAPER))
    assert memory(grid, "xlm-roberta-large", "zero3_offload").total_gib < memory(grid, "xlm-roberta-large",
                                                                                 "zero2").total_gib
