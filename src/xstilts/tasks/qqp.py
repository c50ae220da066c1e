"""Quora Question Pairs (GLUE QQP), English: binary paraphrase classification, an X-STILTs intermediate task.

Read from GLUE's QQP-clean.zip (QQP/{train,dev}.tsv; columns id, qid1, qid2, question1, question2, is_duplicate,
with a header line), the file HF datasets' glue/qqp reads; fields are split on tabs only, as GLUE's loaders do
(quoting=QUOTE_NONE). Labels are the raw "0" (not duplicate) and "1" (duplicate). Rows with an empty question
cannot form a sentence pair (the family rejects an empty text_b); they are skipped and counted in the log.
"""

import logging

from ..families import Classification
from ..formats import RawFormatError, tsv_rows
from . import Source, Task, register

log = logging.getLogger(__name__)

QQP_LABELS = ("0", "1")

QQP = Source(
    name="glue_qqp",
    filename="QQP-clean.zip",
    url="https://dl.fbaipublicfiles.com/glue/data/QQP-clean.zip",
    sha256="40e7c862c04eb26ee04b67fd900e76c45c6ba8e6d8fab4f8f1f8072a1a3fbae0",
)


def read(paths, lang, split):
    skipped = 0
    for where, fields in tsv_rows(paths["glue_qqp"], f"QQP/{split}.tsv", columns=6, header=True):
        if len(fields) != 6:
            raise RawFormatError(f"{where}: expected 6 tab-separated fields, found {len(fields)}")
        pair_id, _, _, question1, question2, label = fields
        if label not in QQP_LABELS:
            raise RawFormatError(f"{where}: is_duplicate {label!r} is not 0 or 1")
        if not question1.strip() or not question2.strip():
            skipped += 1
            continue
        yield {"id": f"qqp-{pair_id}", "text_a": question1, "text_b": question2, "label": label}
    if skipped:
        log.warning("qqp %s: skipped %d rows with an empty question", split, skipped)


register(
    Task(
        name="qqp",
        family=Classification(labels=QQP_LABELS),
        languages=("en",),
        splits=("train", "dev"),
        raw=(QQP,),
        read=read,
        metric="accuracy",
        display="QQP",
        train_examples=363846,
        citation="Iyer et al. 2017, First Quora Dataset Release: Question Pairs (GLUE: Wang et al. 2019)",
    )
)
