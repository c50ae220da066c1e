"""Slurm resources of the GPU rules, derived from a model's `resources` entry in config.yaml.

Training jobs start one process per GPU with srun (the `mpi` resource tells the Slurm executor plugin not to
wrap the job in `srun -n1`, so the rule's own srun can span nodes); `tasks_per_gpu=0` keeps the plugin from
turning `tasks` into --ntasks-per-gpu (plugin issues #316/#342/#373), and the inner srun repeats
--cpus-per-task, which Slurm >= 22.05 no longer inherits (plugin issue #41). A model without GPUs (the CPU
demo) gets a single process and no srun. Runtime grows with the retry attempt; training stops itself with a
checkpoint a few minutes before it (xstilts.train --time-limit), so a retry resumes instead of restarting.
"""

from __future__ import annotations

DEFAULT_TRAIN_MINUTES = 24 * 60
DEFAULT_PREDICT_MINUTES = 120


def gpu_count(model_cfg: dict) -> tuple[int, int]:
    res = model_cfg.get("resources", {})
    return res.get("nodes", 1), res.get("gpus_per_node", 0)


def train_resources(model_cfg: dict, attempt: int) -> dict:
    nodes, gpus = gpu_count(model_cfg)
    res = model_cfg.get("resources", {})
    minutes = res.get("train_minutes", DEFAULT_TRAIN_MINUTES) * attempt
    out = {"runtime": minutes, "cpus_per_task": res.get("cpus_per_gpu", 1),
           "mem_mb": int(res.get("mem_gb_per_gpu", 8) * max(gpus, 1) * 1024)}
    if gpus:
        out.update(nodes=nodes, tasks=nodes * gpus, tasks_per_gpu=0, gres=f"gpu:{gpus}",
                   slurm_extra=f"--ntasks-per-node={gpus}")
    if nodes * gpus > 1:
        out["mpi"] = "srun"
    return out


def predict_resources(model_cfg: dict, attempt: int) -> dict:
    nodes, gpus = gpu_count(model_cfg)
    res = model_cfg.get("resources", {})
    out = {"runtime": res.get("predict_minutes", DEFAULT_PREDICT_MINUTES) * attempt,
           "cpus_per_task": res.get("cpus_per_gpu", 1), "mem_mb": int(res.get("mem_gb_per_gpu", 8) * 1024)}
    if gpus:
        out["gres"] = "gpu:1"  # inference in bf16 fits one GPU for every configured model (XXL: 21 GB)
    return out


def launcher(model_cfg: dict) -> str:
    """The command prefix that starts one training process per GPU ('' for a single process)."""
    nodes, gpus = gpu_count(model_cfg)
    if nodes * gpus <= 1:
        return ""
    cpus = model_cfg.get("resources", {}).get("cpus_per_gpu", 1)
    return (f"srun --nodes={nodes} --ntasks={nodes * gpus} --ntasks-per-node={gpus} --cpus-per-task={cpus} "
            f"--kill-on-bad-exit=1")


def stop_margin_option(model_cfg: dict) -> str:
    """The training command's --stop-margin option, when the model's resources set one."""
    margin = model_cfg.get("resources", {}).get("stop_margin_minutes")
    return "" if margin is None else f" --stop-margin {margin}"


def translate_resources(translation_cfg: dict, attempt: int) -> dict:
    """One translation shard: one GPU (or CPU only when `gpus: 0`), more time on each retry."""
    res = translation_cfg.get("resources", {})
    out = {"runtime": res.get("minutes", DEFAULT_PREDICT_MINUTES) * attempt, "cpus_per_task": res.get("cpus", 4),
           "mem_mb": int(res.get("mem_gb", 32) * 1024)}
    if res.get("gpus", 1):
        out["gres"] = f"gpu:{res.get('gpus', 1)}"
    return out


CONVERT_MINUTES = 60  # reading and rewriting a 3B model's weights takes minutes; more time on each retry


def convert_resources(translation_cfg: dict, attempt: int) -> dict:
    """Converting an MT model to CTranslate2: CPU only, the translation jobs' cores and memory (the weights are
    held twice while they are rewritten)."""
    res = translation_cfg.get("resources", {})
    return {"runtime": CONVERT_MINUTES * attempt, "cpus_per_task": res.get("cpus", 4),
            "mem_mb": int(res.get("mem_gb", 32) * 1024)}
