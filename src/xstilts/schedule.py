"""Multi-task batch schedules: which task, and which of its examples, each training batch holds.

A schedule is a flat list of (task, example index) laid out in blocks of one per-device batch, each block
from a single task. Sampling rules:
  - "proportional" (default, jiant's examples-proportional mixing): every epoch visits each task's examples
    once in a fresh random order; the blocks of all tasks are shuffled together.
  - "temperature": each block's task is drawn with probability proportional to n_task ** (1 / T)
    (T = 1 is proportional in expectation, large T approaches uniform), examples cycling through per-task
    random orders; an epoch has as many blocks as a proportional epoch.
`sampling.max_examples` caps an epoch at that many examples (rounded up to whole blocks) under either rule, so
arms of different data sizes can be compared at equal compute.
A task whose example count is not a multiple of the block size has its last block filled up with examples from
the start of its order, so blocks never mix tasks.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .families import pad_features


def _blocks_of(order: np.ndarray, block: int) -> list[np.ndarray]:
    padded = np.resize(order, math.ceil(len(order) / block) * block)  # np.resize repeats from the start
    return list(padded.reshape(-1, block))


def build_schedule(sizes: dict[str, int], block: int, epochs: float, seed: int,
                   sampling: dict | None = None) -> list[tuple[str, int]]:
    if block < 1:
        raise ValueError("block size must be positive")
    if not sizes:
        raise ValueError("no training tasks")
    empty = [t for t, n in sizes.items() if n == 0]
    if empty:
        raise ValueError(f"no training examples for {', '.join(empty)}")
    rule = (sampling or {}).get("rule", "proportional")
    rng = np.random.default_rng(seed)
    tasks = sorted(sizes)
    per_epoch = sum(math.ceil(sizes[t] / block) for t in tasks)
    cap = (sampling or {}).get("max_examples")
    if cap:
        per_epoch = min(per_epoch, math.ceil(cap / block))
    total = max(1, round(epochs * per_epoch))
    blocks: list[tuple[str, np.ndarray]] = []
    if rule == "proportional":
        while len(blocks) < total:
            epoch = [(t, b) for t in tasks for b in _blocks_of(rng.permutation(sizes[t]), block)]
            blocks.extend(epoch[i] for i in rng.permutation(len(epoch)))
    elif rule == "temperature":
        if not sampling.get("temperature", 0) > 0:
            raise ValueError(f"the temperature rule needs a positive sampling.temperature, got {sampling}")
        weights = np.array([sizes[t] ** (1.0 / sampling["temperature"]) for t in tasks])
        draws = rng.choice(len(tasks), size=total, p=weights / weights.sum())
        cursors = {t: (rng.permutation(sizes[t]), 0) for t in tasks}
        for i in draws:
            task = tasks[i]
            order, at = cursors[task]
            picked = order[np.arange(at, at + block) % len(order)]
            cursors[task] = (order, at + block) if at + block < len(order) else (rng.permutation(sizes[task]), 0)
            blocks.append((task, picked))
    else:
        raise ValueError(f"unknown sampling rule {rule!r} (known: proportional, temperature)")
    return [(task, int(i)) for task, indices in blocks[:total] for i in indices]


class ScheduledDataset(torch.utils.data.Dataset):
    def __init__(self, features: dict[str, list[dict]], schedule: list[tuple[str, int]]):
        self.features = features
        self.schedule = schedule

    def __len__(self) -> int:
        return len(self.schedule)

    def __getitem__(self, i: int) -> dict:
        task, index = self.schedule[i]
        return {"task": task, **self.features[task][index]}


def collate(batch: list[dict], pad_token_id: int) -> dict:
    tasks = {b["task"] for b in batch}
    if len(tasks) != 1:
        raise RuntimeError(f"a batch mixes tasks {sorted(tasks)}: the schedule and the batch size disagree")
    padded = pad_features(batch, pad_token_id)
    return {"task": tasks.pop(), **{k: torch.from_numpy(v) for k, v in padded.items()}}
