"""Tatoeba (Artetxe & Schwenk 2019): 1,000 English-aligned sentences per language, nearest-neighbour retrieval.

Read from the LASER originals, whose line i in tatoeba.<xxx>-eng.<xxx> is aligned with line i of the .eng
file (XTREME's preprocessing sorts the English side to hide the alignment, xtreme #17/#21, so local scoring
needs these files).
"""

from ..families import Retrieval
from ..formats import RawFormatError, member_lines
from . import Source, Task, register

# XTREME language code -> LASER's three-letter Tatoeba code
LASER_CODES = {
    "ar": "ara", "he": "heb", "vi": "vie", "id": "ind", "jv": "jav", "tl": "tgl", "eu": "eus", "ml": "mal",
    "ta": "tam", "te": "tel", "af": "afr", "nl": "nld", "de": "deu", "el": "ell", "bn": "ben", "hi": "hin",
    "mr": "mar", "ur": "urd", "fa": "pes", "fr": "fra", "it": "ita", "pt": "por", "es": "spa", "bg": "bul",
    "ru": "rus", "ja": "jpn", "ka": "kat", "ko": "kor", "th": "tha", "sw": "swh", "zh": "cmn", "kk": "kaz",
    "tr": "tur", "et": "est", "fi": "fin", "hu": "hun",
}

LASER = Source(
    name="laser",
    filename="LASER-main.zip",
    url="https://github.com/facebookresearch/LASER/archive/main.zip",
    sha256=None,
)


def read(paths, lang, split):
    code = LASER_CODES[lang]
    stem = f"data/tatoeba/v1/tatoeba.{code}-eng"
    src = [line for *_, line in member_lines(paths["laser"], f"{stem}.{code}")]
    tgt = [line for *_, line in member_lines(paths["laser"], f"{stem}.eng")]
    # a trailing newline leaves one empty last line in each file
    src, tgt = (src[:-1] if src and not src[-1] else src), (tgt[:-1] if tgt and not tgt[-1] else tgt)
    if len(src) != len(tgt):
        raise RawFormatError(f"{paths['laser']}:{stem}: {len(src)} {code} lines but {len(tgt)} eng lines")
    for i, text in enumerate(tgt):
        yield {"id": f"eng-{i}", "side": "tgt", "text": text}
    for i, text in enumerate(src):
        yield {"id": f"{code}-{i}", "side": "src", "text": text, "gold": f"eng-{i}"}


register(
    Task(
        name="tatoeba",
        family=Retrieval(),
        languages=tuple(LASER_CODES),
        splits=("test",),
        raw=(LASER,),
        read=read,
        metric="accuracy",
        group="retrieval",
        display="Tatoeba",
        test_examples=1000,
        citation="Artetxe & Schwenk 2019, Massively Multilingual Sentence Embeddings for Zero-Shot Cross-Lingual Transfer",
    )
)
