"""MLQA (Lewis et al. 2020): extractive QA in 7 languages, SQuAD v1.1 format; fine-tuned on English SQuAD.

MLQA_V1.zip holds `MLQA_V1/{dev,test}/{dev,test}-context-<c>-question-<q>.json` for all 49 language pairs;
XTREME uses only the 7 same-language pairs (context and question in the same language), test as its test set
(scripts/download_data.sh `download_mlqa`, utils_preprocess.py `mlqa_preprocess`). Scoring uses MLQA's own
language-aware evaluator (xtreme #38: SQuAD's normalization breaks zh).
"""

from ..families import SpanQA
from ..formats import read_member, squad_records
from . import Source, Task, register

MLQA = Source(
    name="mlqa",
    filename="MLQA_V1.zip",
    url="https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip",
    sha256="246e8089933d13007fe80684d5c5c0713d6834cf8b3b4a0ec7c66f0a0d2baac8",
)


def member(lang: str, split: str) -> str:
    # the entry ending in this path (the archive's top folder is MLQA_V1/)
    return f"{split}/{split}-context-{lang}-question-{lang}.json"


def read(paths, lang, split):
    archive = paths["mlqa"]
    name = member(lang, split)
    yield from squad_records(f"{archive}:{name}", read_member(archive, name))


register(
    Task(
        name="mlqa",
        family=SpanQA(),
        languages=tuple("en es de ar hi vi zh".split()),
        splits=("dev", "test"),
        raw=(MLQA,),
        read=read,
        metric="mlqa_em_f1",
        train_task="squad",
        group="qa",
        display="MLQA",
        test_examples=6600,
        citation="Lewis et al. 2020, MLQA: Evaluating Cross-lingual Extractive Question Answering",
    )
)
