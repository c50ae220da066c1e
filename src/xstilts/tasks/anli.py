"""Adversarial NLI (Nie et al. 2020), English, rounds R1-R3 as one task: part of X-STILTs' ANLI+ intermediate
task (SNLI + MNLI + ANLI trained jointly through one shared NLI head, jiant's guides/tasks/task_specific.md: give
snli, mnli and anli the same `head` in config.yaml).

Read from anli_v1.0.zip (anli_v1.0/R{1,2,3}/{train,dev,test}.jsonl; fields uid, context, hypothesis, label
e/n/c, reason, ...): a split is the concatenation of the three rounds' files, in round order, without the
up-sampling of later rounds that the ANLI authors used. Ids keep the round: anli-r<round>-<uid>.
"""

from ..families import Classification
from ..formats import RawFormatError, json_lines
from . import Source, Task, register
from .xnli import NLI_LABELS

ROUNDS = ("R1", "R2", "R3")
ANLI_LABELS = {"e": "entailment", "n": "neutral", "c": "contradiction"}

ANLI = Source(
    name="anli",
    filename="anli_v1.0.zip",
    url="https://dl.fbaipublicfiles.com/anli/anli_v1.0.zip",
    # HF datasets and TFDS pin only anli_v0.1.zip; this hash (18,708,061 bytes) is the one three independent
    # loaders state for v1.0. If the host's file differs, the download stops naming both hashes.
    sha256="e5c058f2bb4e6190b0651badca2c590e45db95248f8b28cde674615ee40820bf",
)


def read(paths, lang, split):
    for round_tag in ROUNDS:
        for where, row in json_lines(paths["anli"], f"{round_tag}/{split}.jsonl"):
            try:
                uid, premise, hypothesis, label = row["uid"], row["context"], row["hypothesis"], row["label"]
            except KeyError as e:
                raise RawFormatError(f"{where}: ANLI line lacks {e}") from None
            if label not in ANLI_LABELS:
                raise RawFormatError(f"{where}: unknown ANLI label {label!r} (expected e, n or c)")
            yield {"id": f"anli-{round_tag.lower()}-{uid}", "text_a": premise, "text_b": hypothesis,
                   "label": ANLI_LABELS[label]}


register(
    Task(
        name="anli",
        family=Classification(labels=NLI_LABELS),
        languages=("en",),
        splits=("train", "dev", "test"),
        raw=(ANLI,),
        read=read,
        metric="accuracy",
        display="ANLI",
        train_examples=162865,
        citation="Nie et al. 2020, Adversarial NLI: A New Benchmark for Natural Language Understanding",
    )
)
