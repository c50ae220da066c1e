"""Tests for xstilts.launch.distributed_env: torchrun variables kept, srun tasks mapped to ranks, single-process
default. scontrol is never called: MASTER_ADDR comes from the environment where a test needs it."""

import os
import socket

import pytest

from xstilts import launch
from xstilts.launch import distributed_env, setup_distributed_env


@pytest.fixture(autouse=True)
def no_scontrol(monkeypatch):
    def fail(nodelist):
        raise AssertionError(f"scontrol called for {nodelist}")

    monkeypatch.setattr(launch, "first_node", fail)


def test_torchrun_variables_are_kept():
    env = {"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "8", "MASTER_ADDR": "n1", "MASTER_PORT": "29500",
           "SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "1", "SLURM_JOB_ID": "5"}
    assert distributed_env(env) == {}


def test_srun_multi_task_mapping():
    env = {"SLURM_PROCID": "5", "SLURM_LOCALID": "1", "SLURM_STEP_NUM_TASKS": "8", "SLURM_NTASKS": "16",
           "SLURM_JOB_ID": "1234567", "MASTER_ADDR": "gpu-node-01", "SLURM_JOB_NODELIST": "gpu-node-[01-02]"}
    assert distributed_env(env) == {"RANK": "5", "LOCAL_RANK": "1", "WORLD_SIZE": "8", "MASTER_ADDR": "gpu-node-01",
                                    "MASTER_PORT": str(20000 + 1234567 % 20000)}


def test_srun_port_is_a_function_of_the_job_and_in_range():
    base = {"SLURM_PROCID": "0", "SLURM_LOCALID": "0", "SLURM_STEP_NUM_TASKS": "2", "MASTER_ADDR": "n"}
    ports = {int(distributed_env({**base, "SLURM_JOB_ID": str(job)})["MASTER_PORT"]) for job in (1, 2, 19999, 20000)}
    assert ports == {20001, 20002, 39999, 20000}
    same = [distributed_env({**base, "SLURM_PROCID": str(r), "SLURM_JOB_ID": "77"})["MASTER_PORT"] for r in (0, 1)]
    assert same[0] == same[1]  # every task of the job agrees on the port
    assert distributed_env({**base, "SLURM_JOB_ID": "77", "MASTER_PORT": "4242"})["MASTER_PORT"] == "4242"


def test_srun_local_rank_defaults_to_zero():
    env = {"SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "2", "SLURM_JOB_ID": "9", "MASTER_ADDR": "n"}
    out = distributed_env(env)
    assert (out["RANK"], out["LOCAL_RANK"], out["WORLD_SIZE"]) == ("1", "0", "2")


def test_batch_script_without_srun_is_a_single_process():
    # `sbatch --ntasks=4` running python directly: one process sees SLURM_NTASKS=4 and SLURM_PROCID=0 but no
    # step task count; taking it for rank 0 of 4 would hang waiting for ranks that never start
    env = {"SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_JOB_ID": "9", "SLURM_JOB_NODELIST": "n[1-2]"}
    out = distributed_env(env)
    assert (out["RANK"], out["WORLD_SIZE"], out["MASTER_ADDR"]) == ("0", "1", "127.0.0.1")


def test_srun_without_master_addr_asks_for_the_first_node(monkeypatch):
    monkeypatch.setattr(launch, "first_node", lambda nodelist: f"first-of-{nodelist}")
    env = {"SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "4", "SLURM_JOB_ID": "9", "SLURM_JOB_NODELIST": "n[1-2]"}
    assert distributed_env(env)["MASTER_ADDR"] == "first-of-n[1-2]"


@pytest.mark.parametrize("env", [
    {},
    {"SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "1", "SLURM_JOB_ID": "12"},  # a one-GPU Slurm job
    {"RANK": "0"},  # half a torchrun environment is not one
])
def test_single_process_default(env):
    out = distributed_env(env)
    assert {k: out[k] for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR")} == {
        "RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1"}
    port = int(out["MASTER_PORT"])
    assert 0 < port < 65536
    with socket.socket() as s:  # the port is free
        s.bind(("127.0.0.1", port))


def test_single_process_keeps_a_given_port():
    assert distributed_env({"MASTER_PORT": "29511"})["MASTER_PORT"] == "29511"


def test_setup_distributed_env_updates_os_environ(monkeypatch):
    fake = {"PATH": "/bin", "MASTER_PORT": "29512"}
    monkeypatch.setattr(os, "environ", fake)  # restored after the test: nothing leaks into other tests
    setup_distributed_env()
    assert fake == {"PATH": "/bin", "RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1",
                    "MASTER_PORT": "29512"}


def test_distributed_env_does_not_modify_its_argument():
    env = {"SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "2", "SLURM_JOB_ID": "3", "MASTER_ADDR": "n"}
    copy = dict(env)
    distributed_env(env)
    assert env == copy
