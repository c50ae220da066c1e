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
    """One raw download. `sha256` pins the exact file; `manual` sources cannot be fetched by a script.

    `max_bytes` makes the download a prefix: only the first `max_bytes` bytes of the file (all of it when it is
    shorter), for corpora far larger than we use (CC-100). A prefix has no published checksum; it is verified
    by decoding it, so it must be xz (a truncated xz stream decodes up to where it was cut)."""

    name: str
    filename: str
    url: str | None
    sha256: str | None
    manual: str | None = None  # instructions shown when the file has to be put in place by hand
    max_bytes: int | None = None

    def __post_init__(self):
        if self.url is None and self.manual is None:
            raise ValueError(f"source {self.name}: needs a url or manual instructions")
        if self.max_bytes is not None:
            if self.max_bytes <= 0:
                raise ValueError(f"source {self.name}: max_bytes must be positive, not {self.max_bytes}")
            if not self.filename.endswith(".xz"):
                raise ValueError(f"source {self.name}: a prefix download (max_bytes) is verified by decoding it, "
                                 f"which needs an .xz file, not {self.filename}")


@dataclass(frozen=True)
class Task:
    """A dataset plus the family that holds its code.

    `languages` are the official evaluation languages (XTREME's evaluate.py TASK2LANGS) for target tasks.
    For intermediate tasks they are the languages the task has training data in, "en" first: English, then
    `native_languages`, existing non-English training data made by others (e.g. XNLI-MT's translations of
    MNLI), whose provenance `translate_train` states; ("en",) when only English exists, so an arm can train
    on such a task in another language only from a translation of its own. `train_task` names the task whose
    English training split is used for fine-tuning (e.g. XNLI fine-tunes on MNLI); None for tasks that are
    not fine-tuned (retrieval). `raw` lists every raw download of the task; `needs(lang, split)` names the
    ones a (lang, split) reads (default: all), and `read` turns them into records.
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
    # intermediate tasks: where the non-English training data in `languages` comes from, who made it and how
    # (e.g. machine-translated by a benchmark's authors); empty when the task has English data only
    translate_train: str = ""

    def __post_init__(self):
        if not self.languages:
            raise ValueError(f"task {self.name}: no languages")
        if self.is_target:
            if self.translate_train:
                raise ValueError(f"task {self.name}: translate_train describes intermediate training data; "
                                 f"a target task trains on {self.train_task or 'nothing'}")
            return
        if self.languages[0] != "en":
            raise ValueError(f"task {self.name}: an intermediate task's languages start with its English training "
                             f"data, 'en'; found {', '.join(self.languages)}")
        if bool(self.native_languages) != bool(self.translate_train):
            raise ValueError(f"task {self.name}: non-English training languages "
                             f"({', '.join(self.native_languages) or 'none'}) need translate_train to say where "
                             f"their data comes from, and translate_train needs such languages")

    @property
    def native_languages(self) -> tuple[str, ...]:
        """Non-English languages with existing training data (intermediate tasks; empty for target tasks)."""
        return () if self.is_target else self.languages[1:]

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
