"""XQuAD (Artetxe et al. 2020): SQuAD v1.1 dev paragraphs translated into 10 languages; fine-tuned on SQuAD.

The single file per language is XTREME's test set.
"""

from ..families import SpanQA
from ..formats import squad_records
from . import Source, Task, register

LANGUAGES = tuple("en es de el ru tr ar vi th zh hi".split())
# sha256 of each file (as pinned by the Hugging Face xtreme/xquad loaders; equal to google-deepmind/xquad@7d30520c)
SHA256 = {
    "en": "e4c57d1c9143aaa1c5d265ba5987a65f4e69528d2a98f29d6e75019b10344f29",
    "es": "dcbae93ec3a9f4b9e78fd834a171d6f96c1a875e10e15b7530b7e4ef4971e37e",
    "de": "990b5d746746ed65ed4702ea5f35f99ffa4e2f1c390c07d003642acd937916f9",
    "el": "821cf0f88e73fa258fd2f548b19b6ec39f7025059e16f6f9fc8cd797c9c3663e",
    "ru": "208d5b1aa154c52b1b5c5eda16281e455e8fd198cdb9af3f469f0d6037d973bf",
    "tr": "92179a564774b7696100d144c1e10870d0a966b6fccbdd254a65b9d2ab1971cc",
    "ar": "abdabd7afed5c635d99cca0f3f0d0c9d9ed0bc77451e963c2e4e0638c29e486d",
    "vi": "f619a1eb11fb42d3ab0834259e488a65f585447ef6154437bfb7199d85161a04",
    "th": "5cdda11d0e1e075f7872abf4e6ae830388ce7f617964d542308e9ae4257e0f43",
    "zh": "691d0b3359bc6b8faa8de931dfdfe21d50a65861ae348e32a0d1a0190b0c8835",
    "hi": "df2cce3532b37e9beb8979704b5c9a4bf874358f105395a298b89427b43b9d24",
}
SOURCES = tuple(
    Source(
        name=f"xquad_{lang}",
        filename=f"xquad.{lang}.json",
        url=f"https://raw.githubusercontent.com/deepmind/xquad/master/xquad.{lang}.json",
        sha256=SHA256[lang],
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
        test_examples=1190,
        citation="Artetxe et al. 2020, On the Cross-lingual Transferability of Monolingual Representations",
    )
)
