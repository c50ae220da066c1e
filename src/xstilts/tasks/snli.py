"""SNLI 1.0 (Bowman et al. 2015), English NLI: part of X-STILTs' ANLI+ intermediate task (SNLI + MNLI + ANLI
R1-R3 trained jointly through one shared NLI head: give the three tasks the same `head` in config.yaml).

Read from snli_1.0.zip (snli_1.0/snli_1.0_{train,dev}.jsonl; the zip also holds __MACOSX/ copies, which are not
matched). Pairs without a gold label (gold_label "-", no annotator majority) are dropped, as HF datasets (label -1)
and jiant do. Ids are the line numbers (pairID is not documented as unique).
"""

import logging

from ..families import Classification
from ..formats import RawFormatError, json_lines
from . import Source, Task, register
from .xnli import NLI_LABELS, nli_label

log = logging.getLogger(__name__)

SNLI = Source(
    name="snli",
    filename="snli_1.0.zip",
    url="https://nlp.stanford.edu/projects/snli/snli_1.0.zip",
    sha256="afb3d70a5af5d8de0d9d81e2637e0fb8c22d1235c2749d83125ca43dab0dbd3e",
)


def read(paths, lang, split):
    skipped = 0
    for where, row in json_lines(paths["snli"], f"snli_1.0/snli_1.0_{split}.jsonl"):
        try:
            gold, premise, hypothesis = row["gold_label"], row["sentence1"], row["sentence2"]
        except KeyError as e:
            raise RawFormatError(f"{where}: SNLI line lacks {e}") from None
        if gold == "-":
            continue
        if not premise.strip() or not hypothesis.strip():
            skipped += 1
            continue
        yield {"id": f"snli-{where.rsplit(':', 1)[1]}", "text_a": premise, "text_b": hypothesis,
               "label": nli_label(gold, where)}
    if skipped:
        log.warning("snli %s: skipped %d pairs with an empty sentence", split, skipped)


register(
    Task(
        name="snli",
        family=Classification(labels=NLI_LABELS),
        languages=("en",),
        splits=("train", "dev", "test"),
        raw=(SNLI,),
        read=read,
        metric="accuracy",
        display="SNLI",
        train_examples=549367,
        citation="Bowman et al. 2015, A large annotated corpus for learning natural language inference",
    )
)
