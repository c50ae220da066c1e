"""Process-group environment for training, whatever started the process.

DeepSpeed and the HF Trainer read RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT; without them
DeepSpeed falls back to MPI discovery and dies on a missing mpi4py. This fills them in for the three ways a
training job starts:
  - torchrun / the deepspeed launcher: already set, kept as they are;
  - `srun` with one task per GPU (the multi-node route of rules/train.smk): mapped from SLURM_PROCID,
    SLURM_LOCALID and the step's task count; MASTER_ADDR is the job's first node and MASTER_PORT is derived
    from the job id, so jobs sharing a node do not collide;
  - a plain single process (local runs, the demo, one-GPU Slurm jobs): rank 0 of 1 on a free local port.
"""

from __future__ import annotations

import os
import socket
import subprocess


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_node(nodelist: str) -> str:
    """The address of the job's first node: its NodeAddr in Slurm (a hostname or an IP; on clusters whose
    node names do not resolve, e.g. virtual nodes, only NodeAddr reaches it)."""
    out = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True, text=True, check=True)
    name = out.stdout.split()[0]
    node = subprocess.run(["scontrol", "show", "node", name, "--oneliner"], capture_output=True, text=True)
    fields = dict(f.split("=", 1) for f in node.stdout.split() if "=" in f)
    return fields.get("NodeAddr") or name


def distributed_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The variables to set (a pure function of the given environment, for testing)."""
    env = dict(os.environ if env is None else env)
    if "RANK" in env and "WORLD_SIZE" in env:
        return {}
    # the step's task count, set by srun; not the job's SLURM_NTASKS, which a batch script running python
    # directly (one process) also sees: rank 0 of SLURM_NTASKS would wait forever for the others
    tasks = int(env.get("SLURM_STEP_NUM_TASKS", "1"))
    if "SLURM_PROCID" in env and tasks > 1:
        job = int(env["SLURM_JOB_ID"])
        return {
            "RANK": env["SLURM_PROCID"],
            "LOCAL_RANK": env.get("SLURM_LOCALID", "0"),
            "WORLD_SIZE": str(tasks),
            "MASTER_ADDR": env.get("MASTER_ADDR") or first_node(env["SLURM_JOB_NODELIST"]),
            # 20000-39999: above the usual service ports, below the Linux ephemeral range
            "MASTER_PORT": env.get("MASTER_PORT") or str(20000 + job % 20000),
        }
    return {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": env.get("MASTER_PORT") or str(_free_port())}


def setup_distributed_env() -> None:
    os.environ.update(distributed_env())
