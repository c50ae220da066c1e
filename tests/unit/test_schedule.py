"""Tests for xstilts.schedule: single-task blocks, examples-proportional epochs, temperature sampling, determinism,
and collate() refusing mixed-task batches."""

import math
from collections import Counter

import numpy as np
import pytest
import torch

from xstilts.schedule import ScheduledDataset, build_schedule, collate


def blocks_of(schedule, block):
    assert len(schedule) % block == 0
    return [schedule[i:i + block] for i in range(0, len(schedule), block)]


@pytest.mark.parametrize("rule", [{"rule": "proportional"}, {"rule": "temperature", "temperature": 2.0}])
def test_every_block_is_one_task(rule):
    sizes = {"mnli": 23, "squad": 10, "qqp": 4}
    schedule = build_schedule(sizes, block=4, epochs=3, seed=1, sampling=rule)
    for block in blocks_of(schedule, 4):
        assert len({task for task, _ in block}) == 1
        task = block[0][0]
        assert all(0 <= i < sizes[task] for _, i in block)


def test_proportional_epoch_visits_every_example_once_plus_fill():
    sizes = {"a": 10, "b": 8, "c": 1}
    block = 4
    schedule = build_schedule(sizes, block=block, epochs=1, seed=0)
    per_epoch = sum(math.ceil(n / block) for n in sizes.values())  # 3 + 2 + 1 blocks
    assert len(schedule) == per_epoch * block
    counts = Counter(schedule)
    for task, n in sizes.items():
        indices = [i for t, i in schedule if t == task]
        assert set(indices) == set(range(n))
        filled = math.ceil(n / block) * block - n
        assert len(indices) == n + filled
        # the fill repeats examples from the start of the task's order: at most one extra visit each
        assert sum(counts[(task, i)] - 1 for i in range(n)) == filled


@pytest.mark.parametrize("seed", range(6))
def test_proportional_fill_comes_from_the_start_of_the_epoch_order(seed):
    schedule = build_schedule({"a": 6}, block=4, epochs=1, seed=seed)
    blocks = [[i for _, i in b] for b in blocks_of(schedule, 4)]
    # the epoch's order is split into [o0 o1 o2 o3] and [o4 o5 o0 o1] (the blocks may come in either order)
    first, tail = (blocks[0], blocks[1]) if blocks[1][2:] == blocks[0][:2] else (blocks[1], blocks[0])
    assert sorted(first + tail[:2]) == list(range(6))
    assert tail[2:] == first[:2]


def test_proportional_multiple_epochs_each_complete():
    sizes = {"a": 12, "b": 8}
    schedule = build_schedule(sizes, block=4, epochs=3, seed=5)
    assert len(schedule) == 3 * (3 + 2) * 4
    blocks = blocks_of(schedule, 4)
    for epoch in range(3):
        seen = Counter(item for b in blocks[epoch * 5:(epoch + 1) * 5] for item in b)
        assert seen == Counter({**{("a", i): 1 for i in range(12)}, **{("b", i): 1 for i in range(8)}})


def test_proportional_orders_differ_between_epochs_and_tasks_interleave():
    schedule = build_schedule({"a": 40, "b": 40}, block=2, epochs=2, seed=0)
    first, second = schedule[:80], schedule[80:]
    assert first != second
    tasks = [schedule[i][0] for i in range(0, 80, 2)]
    assert tasks != sorted(tasks)  # blocks of the two tasks are shuffled together


def test_deterministic_per_seed():
    sizes = {"a": 17, "b": 9}
    for rule in (None, {"rule": "temperature", "temperature": 3}):
        assert build_schedule(sizes, 4, 2, seed=7, sampling=rule) == build_schedule(sizes, 4, 2, seed=7, sampling=rule)
        assert build_schedule(sizes, 4, 2, seed=7, sampling=rule) != build_schedule(sizes, 4, 2, seed=8, sampling=rule)


def test_independent_of_the_order_of_the_sizes_dict():
    assert build_schedule({"a": 9, "b": 5}, 2, 1, seed=1) == build_schedule({"b": 5, "a": 9}, 2, 1, seed=1)


@pytest.mark.parametrize("epochs, blocks", [(0.5, 4), (1.5, 12), (2.25, 18), (0.01, 1)])
def test_float_epochs(epochs, blocks):
    sizes = {"a": 20, "b": 12}  # 5 + 3 = 8 blocks per epoch
    schedule = build_schedule(sizes, block=4, epochs=epochs, seed=0)
    assert len(schedule) == blocks * 4
    if epochs == 1.5:
        # the first epoch is complete before the second starts
        assert Counter(schedule[:32]) == Counter([("a", i) for i in range(20)] + [("b", i) for i in range(12)])


def test_temperature_epoch_length_and_cycling():
    sizes = {"a": 30, "b": 6}
    schedule = build_schedule(sizes, block=3, epochs=2, seed=0, sampling={"rule": "temperature", "temperature": 1})
    assert len(schedule) == 2 * (10 + 2) * 3
    # within a task, examples cycle through a permutation before repeating
    a = [i for t, i in schedule if t == "a"]
    for start in range(0, len(a) - len(a) % 30, 30):
        assert sorted(a[start:start + 30]) == list(range(30))


def test_temperature_frequencies():
    sizes = {"big": 10000, "small": 100}
    block = 10

    def share(temperature):
        schedule = build_schedule(sizes, block=block, epochs=1, seed=0,
                                  sampling={"rule": "temperature", "temperature": temperature})
        return sum(t == "small" for t, _ in schedule) / len(schedule)

    assert share(1) == pytest.approx(100 / 10100, abs=0.01)  # proportional in expectation
    assert share(2) == pytest.approx(10 / 110, abs=0.02)  # sqrt: 100 vs 10
    assert share(1000) == pytest.approx(0.5, abs=0.05)  # large T: roughly uniform


def test_errors():
    with pytest.raises(ValueError, match="no training examples for b"):
        build_schedule({"a": 3, "b": 0}, block=2, epochs=1, seed=0)
    with pytest.raises(ValueError, match="no training tasks"):
        build_schedule({}, block=2, epochs=1, seed=0)
    with pytest.raises(ValueError, match=r"unknown sampling rule 'uniform' \(known: proportional, temperature\)"):
        build_schedule({"a": 3}, block=2, epochs=1, seed=0, sampling={"rule": "uniform"})
    with pytest.raises(ValueError, match="block size must be positive"):
        build_schedule({"a": 3}, block=0, epochs=1, seed=0)
    with pytest.raises(ValueError, match="temperature"):
        build_schedule({"a": 3}, block=2, epochs=1, seed=0, sampling={"rule": "temperature"})


# ------------------------------------------------------------------------------------ collate ---


def features():
    return {
        "a": [{"input_ids": [0, 5, 2], "labels": 1, "example": 0}, {"input_ids": [0, 2], "labels": 0, "example": 1}],
        "b": [{"input_ids": [0, 7, 7, 2], "labels": [-100, 3, 4, -100], "example": 0}],
    }


def test_scheduled_dataset_and_collate():
    dataset = ScheduledDataset(features(), [("a", 1), ("a", 0), ("b", 0), ("b", 0)])
    assert len(dataset) == 4
    assert dataset[0] == {"task": "a", "input_ids": [0, 2], "labels": 0, "example": 1}
    batch = collate([dataset[0], dataset[1]], pad_token_id=1)
    assert batch["task"] == "a"
    assert torch.equal(batch["input_ids"], torch.tensor([[0, 2, 1], [0, 5, 2]]))
    assert torch.equal(batch["attention_mask"], torch.tensor([[1, 1, 0], [1, 1, 1]]))
    assert torch.equal(batch["labels"], torch.tensor([0, 1]))
    batch = collate([dataset[2], dataset[3]], pad_token_id=1)
    assert batch["task"] == "b" and batch["labels"].shape == (2, 4)


def test_collate_rejects_mixed_tasks():
    dataset = ScheduledDataset(features(), [("a", 0), ("b", 0)])
    with pytest.raises(RuntimeError, match=r"a batch mixes tasks \['a', 'b'\]"):
        collate([dataset[0], dataset[1]], pad_token_id=1)


def test_schedule_with_dataloader_gives_single_task_batches():
    feats = {"a": [{"input_ids": [0, i, 2], "labels": 0, "example": i} for i in range(7)],
             "b": [{"input_ids": [0, 9, i, 2], "labels": 1, "example": i} for i in range(5)]}
    schedule = build_schedule({t: len(f) for t, f in feats.items()}, block=3, epochs=2, seed=0)
    loader = torch.utils.data.DataLoader(ScheduledDataset(feats, schedule), batch_size=3, shuffle=False,
                                         collate_fn=lambda b: collate(b, pad_token_id=1))
    batches = list(loader)
    assert len(batches) == len(schedule) // 3
    assert np.all([b["input_ids"].shape[0] == 3 for b in batches])
