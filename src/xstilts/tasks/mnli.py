"""MultiNLI (Williams et al. 2018), English: an intermediate task and XNLI's training set.

The training split is read from XNLI-MT-1.0's multinli.train.en.tsv, the file XTREME trains XNLI on; the same
archive holds the machine-translated copies used by the translated arms.
"""

from ..families import Classification
from ..formats import tsv_rows
from . import Source, Task, register
from .xnli import NLI_LABELS, nli_label

XNLI_MT = Source(
    name="xnli_mt",
    filename="XNLI-MT-1.0.zip",
    url="https://dl.fbaipublicfiles.com/XNLI/XNLI-MT-1.0.zip",
    sha256="f732517ba2fb1d550e9f3c2aabaef6017c91ee2dcec90e878f138764d224db05",
)


def read(paths, lang, split):
    # columns: premise, hypo, label (with a header line)
    for where, fields in tsv_rows(paths["xnli_mt"], f"multinli/multinli.{split}.{lang}.tsv", columns=3, header=True):
        yield {"id": f"mnli-{where.rsplit(':', 1)[1]}", "text_a": fields[0], "text_b": fields[1],
               "label": nli_label(fields[2], where)}


register(
    Task(
        name="mnli",
        family=Classification(labels=NLI_LABELS),
        languages=("en",),
        splits=("train",),
        raw=(XNLI_MT,),
        read=read,
        metric="accuracy",
        display="MNLI",
        train_examples=392702,
        citation="Williams et al. 2018, A Broad-Coverage Challenge Corpus for Sentence Understanding through Inference",
    )
)
