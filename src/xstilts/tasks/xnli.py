"""XNLI (Conneau et al. 2018): sentence-pair NLI in 15 languages; fine-tuned on English MNLI."""

from ..families import Classification
from ..formats import RawFormatError, tsv_rows
from . import Source, Task, register

NLI_LABELS = ("contradiction", "entailment", "neutral")

XNLI = Source(
    name="xnli",
    filename="XNLI-1.0.zip",
    url="https://dl.fbaipublicfiles.com/XNLI/XNLI-1.0.zip",
    sha256="4ba1d5e1afdb7161f0f23c66dc787802ccfa8a25a3ddd3b165a35e50df346ab1",
)


def nli_label(raw: str, where: str) -> str:
    # XNLI-MT spells contradiction "contradictory" (XTREME's utils_preprocess maps it the same way)
    label = "contradiction" if raw == "contradictory" else raw
    if label not in NLI_LABELS:
        raise RawFormatError(f"{where}: unknown NLI label {raw!r}")
    return label


def read(paths, lang, split):
    # xnli.{dev,test}.tsv columns: language, gold_label, 4 parse columns, sentence1, sentence2, promptID, pairID, ...
    for where, fields in tsv_rows(paths["xnli"], f"xnli.{split}.tsv", columns=10, header=True):
        if fields[0] == lang:
            yield {"id": f"{lang}-{fields[9]}", "text_a": fields[6], "text_b": fields[7],
                   "label": nli_label(fields[1], where)}


register(
    Task(
        name="xnli",
        family=Classification(labels=NLI_LABELS),
        languages=tuple("ar bg de el en es fr hi ru sw th tr ur vi zh".split()),
        splits=("dev", "test"),
        raw=(XNLI,),
        read=read,
        metric="accuracy",
        train_task="mnli",
        group="classification",
        display="XNLI",
        test_examples=5010,
        citation="Conneau et al. 2018, XNLI: Evaluating Cross-lingual Sentence Representations",
    )
)
