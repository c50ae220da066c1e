"""What a configured grid costs before anything is submitted: GPU memory per model and ZeRO stage, whether the
configured stage fits, and the GPU-hours of every job in the grid.

    python -m xstilts plan [--config config.yaml]

Memory: model states from DeepSpeed's own estimators (estimate_zero2/zero3_model_states_mem_needs) plus an
activation estimate for the largest configured micro-batch and sequence length (xstilts.costs). Time: training
FLOPs at an assumed model-FLOPs utilisation of the configured GPUs (`cluster` in config.yaml); sequence counts
are the tasks' sizes, lengths the configured max_length (an upper bound: batches pad to their longest member).
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import BASELINE_ARM, Grid
from .costs import Architecture, predict_hours, train_hours, zero_model_state_bytes
from .tasks import get_task

GIB = 1024**3
STAGES = {"zero0": (0, False), "zero2": (2, False), "zero2_offload": (2, True), "zero3": (3, False),
          "zero3_offload": (3, True)}
# headroom for the CUDA context, allocator fragmentation and communication buffers
USABLE_FRACTION = 0.9


@dataclass(frozen=True)
class Memory:
    stage: str
    model_states_gib: float
    activations_gib: float
    capacity_gib: float

    @property
    def total_gib(self) -> float:
        return self.model_states_gib + self.activations_gib

    @property
    def fits(self) -> bool:
        return self.total_gib <= USABLE_FRACTION * self.capacity_gib


def _largest_micro_batch(grid: Grid, model: str) -> tuple[int, int]:
    """(micro-batch, max_length) of the most memory-hungry training job of `model` in the grid."""
    shapes = []
    for arm in grid.arms:
        if arm == BASELINE_ARM:
            continue
        config = grid.arm_train_config(model, arm, 0)
        shapes += [(config["batch_size"], t["max_length"]) for t in config["tasks"].values()]
    for task in grid.finetuned_targets():
        config = grid.target_train_config(model, task, 0)
        shapes += [(config["batch_size"], t["max_length"]) for t in config["tasks"].values()]
    return max(shapes, key=lambda s: s[0] * s[1] * s[1]) if shapes else (1, 512)


def memory(grid: Grid, model: str, stage_name: str) -> Memory:
    cfg = grid.config["models"][model]
    arch = Architecture.from_config(cfg["architecture"])
    res = cfg["resources"]
    stage, offload = STAGES[stage_name]
    _, gpu_bytes = zero_model_state_bytes(arch, stage, res["gpus_per_node"], res.get("nodes", 1), offload)
    batch, length = _largest_micro_batch(grid, model)
    activations = arch.activation_bytes(batch, length, cfg.get("gradient_checkpointing", False))
    return Memory(stage_name, gpu_bytes / GIB, activations / GIB, res["gpu_memory_gb"] * 1e9 / GIB)


def fit_errors(grid: Grid) -> list[str]:
    """One message per grid model whose configured ZeRO stage will not fit its GPUs (empty when all fit, or
    when a model has no architecture/resources to judge by, like the CPU demo's tiny model)."""
    errors = []
    for model in grid.models:
        cfg = grid.config["models"][model]
        if "architecture" not in cfg or "resources" not in cfg or not cfg.get("deepspeed"):
            continue
        need = memory(grid, model, cfg["deepspeed"])
        if not need.fits:
            fitting = [s for s in STAGES if memory(grid, model, s).fits]
            hint = f"stages that fit: {', '.join(fitting)}" if fitting else "no ZeRO stage fits: add GPUs or nodes"
            errors.append(
                f"config key models.{model}: {cfg['deepspeed']} needs about {need.total_gib:.0f} GiB per GPU "
                f"({need.model_states_gib:.0f} model states + {need.activations_gib:.0f} activations) but a GPU "
                f"has {need.capacity_gib:.0f} GiB; {hint}, or enable gradient_checkpointing"
            )
    return errors


def job_hours(grid: Grid) -> list[tuple[str, str, float]]:
    """(model, job description, GPU-hours) for every training and prediction job of the grid."""
    cluster = grid.config.get("cluster", {})
    peak, mfu = cluster.get("gpu_peak_tflops", 989.0), cluster.get("assumed_mfu", 0.4)
    rows = []
    for model in grid.models:
        cfg = grid.config["models"][model]
        if "architecture" not in cfg:
            continue
        arch = Architecture.from_config(cfg["architecture"])
        gpus = cfg.get("resources", {}).get("gpus_per_node", 1) * cfg.get("resources", {}).get("nodes", 1)
        seeds = len(grid.seeds)
        for arm in grid.arms:
            if arm == BASELINE_ARM:
                continue
            config = grid.arm_train_config(model, arm, 0)
            sizes = {name: min(get_task(s["task"]).train_examples or 0, s.get("max_examples") or float("inf"))
                     for name, s in config["tasks"].items()}
            cap = config.get("sampling", {}).get("max_examples")
            scale = min(1.0, cap / sum(sizes.values())) if cap and sum(sizes.values()) else 1.0
            hours = sum(train_hours(arch, sizes[name] * scale, config["epochs"], s["max_length"], gpus, peak, mfu)
                        for name, s in config["tasks"].items())
            rows.append((model, f"intermediate {arm} x{seeds}", hours * gpus * seeds))
        runs = len(grid.arms) * seeds
        for task in grid.finetuned_targets():
            config = grid.target_train_config(model, task, 0)
            (train_task, settings), = config["tasks"].items()
            hours = train_hours(arch, get_task(train_task).train_examples or 0, config["epochs"],
                                settings["max_length"], gpus, peak, mfu)
            rows.append((model, f"finetune {task} x{runs}", hours * gpus * runs))
        for task in grid.targets:
            examples = (get_task(task).test_examples or 0) * len(grid.languages(task))
            length = grid.config["targets"][task]["max_length"]
            rows.append((model, f"predict {task} x{runs}", predict_hours(arch, examples, length, peak, mfu) * runs))
    return rows


def report(grid: Grid) -> str:
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    lines = ["GPU memory per GPU (model states by DeepSpeed's estimators + activations of the largest micro-batch)"]
    lines.append(f"{'model':<22} {'params':>8} {'stage':<14} {'states':>8} {'activ.':>8} {'total':>8} {'GPU':>6}  fits")
    for model in grid.models:
        cfg = grid.config["models"][model]
        if "architecture" not in cfg or "resources" not in cfg:
            lines.append(f"{model:<22} (no architecture/resources in config: not planned)")
            continue
        arch = Architecture.from_config(cfg["architecture"])
        res = cfg["resources"]
        for stage_name, (stage, offload) in STAGES.items():
            need = memory(grid, model, stage_name)
            gpn, nodes = res["gpus_per_node"], res.get("nodes", 1)
            if stage == 0:  # DeepSpeed has no stage-0 estimator: every GPU holds all model states
                _, ds_gpu = zero_model_state_bytes(arch, 0, gpn, nodes)
            elif stage < 3:
                _, ds_gpu = estimate_zero2_model_states_mem_needs(arch.total_params(), gpn, nodes, offload)
            else:
                _, ds_gpu, _ = estimate_zero3_model_states_mem_needs(arch.total_params(), arch.largest_layer_params(),
                                                                     gpn, nodes, offload, offload)
            marker = " <- configured" if stage_name == cfg.get("deepspeed") else ""
            lines.append(f"{model:<22} {arch.total_params() / 1e9:>7.2f}B {stage_name:<14} {ds_gpu / GIB:>7.1f}G "
                         f"{need.activations_gib:>7.1f}G {ds_gpu / GIB + need.activations_gib:>7.1f}G "
                         f"{need.capacity_gib:>5.0f}G  {'yes' if need.fits else 'NO'}{marker}")
    rows = job_hours(grid)
    lines += ["", f"GPU-hours of the grid ({len(grid.seeds)} seeds; assumed "
                  f"{grid.config.get('cluster', {}).get('assumed_mfu', 0.4):.0%} MFU)"]
    for model, job, hours in rows:
        lines.append(f"{model:<22} {job:<40} {hours:>10.1f}")
    lines.append(f"{'total':<63} {sum(h for *_, h in rows):>10.1f}")
    lines += translation_volume(grid)
    for error in fit_errors(grid):
        lines.append(f"WARNING: {error}")
    return "\n".join(lines)


def translation_volume(grid: Grid) -> list[str]:
    """What the translated arms cost in translation work: jobs and English examples per (MT model, task)."""
    translations = grid.translations()
    if not translations:
        return []
    size = grid.config["translation"]["shard_size"]
    by_pair: dict[tuple[str, str], list[tuple[int, int]]] = {}  # (shards, English examples) per language
    for data in translations:
        english = get_task(data.task).train_examples or 0
        shards = grid.translation_shards(data)
        examples = min(shards * size, english) if english else shards * size
        by_pair.setdefault((data.mt_model, data.task), []).append((shards, examples))
    lines = ["", f"Translation (shards of {size} English examples; one GPU job each, plus a quality job per language)"]
    lines.append(f"{'MT model':<16} {'task':<16} {'languages':>9} {'examples each':>14} {'jobs':>6}")
    for (mt, task), languages in sorted(by_pair.items()):
        jobs = sum(shards for shards, _ in languages) + len(languages)
        examples = max(n for _, n in languages)
        lines.append(f"{mt:<16} {task:<16} {len(languages):>9} {examples:>14} {jobs:>6}")
    if grid.translation_backend() == "ctranslate2":
        models = sorted({mt for mt, _ in by_pair})
        lines.append(f"plus one CPU job per MT model converting it to CTranslate2: {', '.join(models)}")
    return lines
