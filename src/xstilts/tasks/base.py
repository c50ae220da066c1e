"""What a task is: benchmark facts (languages, raw sources, reader, family, metric), never run choices.

Run choices (hyperparameters, which languages to run) live in config.yaml. This module is imported when
Snakemake parses the workflow, on the login node and again inside every cluster job, so it must stay
cheap: no torch, no transformers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..families import Family

Record = dict
# A reader gets the local paths of the raw sources it asked for (keyed by source name), the language and the
# split, and yields normalized records of the task's family (see xstilts.families).
Reader = Callable[[Mapping[str, Path], str, str], Iterator[Record]]


@dataclass(frozen=True)
class Source:
    """One raw download. `sha256` pins the exact file; `manual` sources cannot be fetched by a script."""

    name: str
    filename: str
    url: str | None
    sha256: str | None
    manual: str | None = None  # instructions shown when the file has to be put in place by hand

    def __post_init__(self):
        if self.url is None and self.manual is None:
            raise ValueError(f"source {self.name}: needs a url or manual instructions")


@dataclass(frozen=True)
class Task:
    """A dataset plus the family that holds its code.

    `languages` are the official evaluation languages (XTREME's evaluate.py TASK2LANGS) for target tasks,
    and ("en",) for English intermediate tasks. `train_task` names the task whose English training split is
    used for fine-tuning (e.g. XNLI fine-tunes on MNLI); None for tasks that are not fine-tuned (retrieval).
    `raw` lists every raw download of the task; `needs(lang, split)` names the ones a (lang, split) reads
    (default: all), and `read` turns them into records.
    """

    name: str
    family: Family
    languages: tuple[str, ...]
    splits: tuple[str, ...]
    raw: tuple[Source, ...]
    read: Reader
    metric: str
    train_task: str | None = None
    group: str | None = None  # XTREME group (classification, tagging, qa, retrieval) for target tasks
    version: int = 1
    display: str = ""  # column header in the paper's tables
    # approximate sizes for cost planning (xstilts.plan) only: English training examples, and test examples per
    # language (sentences per side for retrieval)
    train_examples: int | None = None
    test_examples: int | None = None
    citation: str = ""
    needs: Callable[[str, str], tuple[str, ...]] | None = None

    def __post_init__(self):
        if not self.languages:
            raise ValueError(f"task {self.name}: no languages")

    def sources_for(self, lang: str, split: str) -> tuple[Source, ...]:
        if self.needs is None:
            return self.raw
        wanted = self.needs(lang, split)
        return tuple(s for s in self.raw if s.name in wanted)

    @property
    def is_target(self) -> bool:
        return self.group is not None

    @property
    def finetuned(self) -> bool:
        """Target tasks with an English training task are fine-tuned; retrieval tasks use the encoder."""
        return self.train_task is not None

    @property
    def prediction_suffix(self) -> str:
        return self.family.prediction_suffix
