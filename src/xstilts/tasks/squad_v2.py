"""SQuAD v2.0 (Rajpurkar et al. 2018), English: extractive QA with unanswerable questions, selectable as an
intermediate task in place of (or beside) SQuAD v1.1 (which version X-STILTs used is not verified; jiant offers
both as squad_v1 and squad_v2).

Unanswerable questions (is_impossible) have no answers: their training windows point at <s> (position 0), like
the windows of answerable questions that do not contain the answer (xstilts.families.span_qa). Only training uses
this task; its n-best decoding and metric (SQuAD v1.1's EM/F1) ignore the null answer, so they are not v2.0's
official evaluation.
"""

from ..families import SpanQA
from ..formats import squad_records
from . import Source, Task, register

# sha256 pins (Hugging Face datasets' download checksums for these files)
SHA256 = {
    "train": "68dcfbb971bd3e96d5b46c7177b16c1a4e7d4bdef19fb204502738552dede002",
    "dev": "80a5225e94905956a6446d296ca1093975c4d3b3260f1d6c8f68bc2ab77182d8",
}
SOURCES = {
    split: Source(name=f"squad_v2_{split}", filename=f"{split}-v2.0.json",
                  url=f"https://rajpurkar.github.io/SQuAD-explorer/dataset/{split}-v2.0.json",
                  sha256=SHA256[split])
    for split in ("train", "dev")
}


def read(paths, lang, split):
    yield from squad_records(paths[f"squad_v2_{split}"])


register(
    Task(
        name="squad_v2",
        family=SpanQA(),
        languages=("en",),
        splits=tuple(SOURCES),
        raw=tuple(SOURCES.values()),
        needs=lambda lang, split: (f"squad_v2_{split}",),
        read=read,
        metric="squad_em_f1",
        display="SQuAD 2.0",
        train_examples=130319,
        citation="Rajpurkar et al. 2018, Know What You Don't Know: Unanswerable Questions for SQuAD",
    )
)
