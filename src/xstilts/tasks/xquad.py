"""XQuAD (Artetxe et al. 2020): SQuAD v1.1 dev paragraphs translated into 10 languages; fine-tuned on SQuAD.

The single file per language is XTREME's test set.
"""

from ..families import SpanQA
from ..formats import squad_records
from . import Source, Task, register

LANGUAGES = tuple("en es de el ru tr ar vi th zh hi".split())
SOURCES = tuple(
    Source(
        name=f"xquad_{lang}",
        filename=f"xquad.{lang}.json",
        url=f"https://raw.githubusercontent.com/deepmind/xquad/master/xquad.{lang}.json",
        sha256=None,
    )
    for lang in LANGUAGES
)


def read(paths, lang, split):
    yield from squad_records(paths[f"xquad_{lang}"])


register(
    Task(
        name="xquad",
        family=SpanQA(),
        languages=LANGUAGES,
        splits=("test",),
        raw=SOURCES,
        needs=lambda lang, split: (f"xquad_{lang}",),
        read=read,
        metric="squad_em_f1",
        train_task="squad",
        group="qa",
        display="XQuAD",
        citation="Artetxe et al. 2020, On the Cross-lingual Transferability of Monolingual Representations",
    )
)
