"""Checks of the Slurm settings against the cluster itself, before any job is submitted (the Snakefile's
onstart handler runs them when the executor is slurm): every partition a job asks for exists, GPU requests go
to partitions whose nodes have GPUs, and an account is set where the cluster enforces associations.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable


def _run(args: list[str]) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def cluster_facts(run: Callable[[list[str]], str] = _run) -> dict:
    """Partitions (with whether their nodes have GPUs), the default partition, and whether accounts are
    enforced, from sinfo and scontrol."""
    partitions: dict[str, bool] = {}
    default = None
    for line in run(["sinfo", "--noheader", "--format=%P|%G"]).splitlines():
        name, _, gres = line.strip().partition("|")
        if name.endswith("*"):
            name = default = name[:-1]
        partitions[name] = partitions.get(name, False) or "gpu" in gres
    config = dict(line.split("=", 1) for line in (l.replace(" = ", "=") for l in
                  run(["scontrol", "show", "config"]).splitlines()) if "=" in line)
    enforce = config.get("AccountingStorageEnforce", "none").strip()
    return {"partitions": partitions, "default": default,
            "accounts_required": "associations" in enforce or "limits" in enforce or "qos" in enforce}


def slurm_problems(jobs: Iterable[tuple[str, dict]], facts: dict) -> list[str]:
    """One message per distinct problem; `jobs` are (rule name, resources) of the jobs about to be submitted."""
    problems: dict[str, None] = {}
    partitions = facts["partitions"]
    for rule, resources in jobs:
        partition = resources.get("slurm_partition") or facts["default"]
        gpus = "gpu" in str(resources.get("gres") or "") or bool(resources.get("gpu"))
        if partition is None:
            problems[f"rule {rule}: no slurm_partition set and the cluster has no default partition; set it in "
                     f"profiles/slurm/config.yaml (partitions: {', '.join(sorted(partitions))})"] = None
        elif partition not in partitions:
            problems[f"rule {rule}: partition {partition!r} does not exist on this cluster (partitions: "
                     f"{', '.join(sorted(partitions))}); set slurm_partition in profiles/slurm/config.yaml"] = None
        elif gpus and not partitions[partition]:
            gpu_partitions = sorted(p for p, has in partitions.items() if has) or ["(none)"]
            problems[f"rule {rule}: requests GPUs ({resources.get('gres') or resources.get('gpu')}) on partition "
                     f"{partition!r}, whose nodes have no GPUs; GPU partitions: {', '.join(gpu_partitions)} "
                     f"(set-resources.{rule}.slurm_partition in profiles/slurm/config.yaml)"] = None
        if facts["accounts_required"] and not resources.get("slurm_account"):
            problems["this cluster requires an account (AccountingStorageEnforce); set slurm_account under "
                     "default-resources in profiles/slurm/config.yaml"] = None
    return list(problems)
