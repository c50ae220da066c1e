"""CC-100 (Conneau et al. 2020; Wenzek et al. 2020), XLM-R's pretraining corpus, as the masked-LM task of the MLM
arm: multilingual MLM mixed into intermediate training (X-STILTs §1b used Wikipedia text in the XTREME
languages through jiant's `mlm_simple`, one example per line).

Files: https://data.statmt.org/cc-100/<name>.txt.xz, one per language: paragraphs one per line, documents
separated by a blank line, in the corpus's original (unshuffled) order. The file names are CC-100's own codes,
which are the XTREME (ISO 639-1) codes for 39 of the 40 XTREME languages; the exceptions (checked against the
corpus's language list, e.g. torchtext's `CC100` VALID_CODES and the Hugging Face `cc100` dataset card):
  zh -> zh-Hans   (CC-100 splits Chinese by script, zh-Hans / zh-Hant; XTREME's Chinese data is Simplified)
  my -> my        (Burmese in Unicode; CC-100's my_zaw is the same language in the legacy Zawgyi encoding,
                   which XTREME's Burmese (PAN-X, from Wikipedia) does not use)
CC-100 also has romanized files (hi_rom, ur_rom, ta_rom, te_rom, bn_rom); they are not used.

The files are huge (English 82 GB of xz), so each language downloads a prefix: its first MAX_BYTES bytes
(xstilts.download; verified by decoding, its sha256 logged, as no checksum of a prefix is published). 32 MiB
of xz is about 4 x 32 MiB of text, a few hundred thousand lines of a few hundred bytes (`train_examples`, a
rough planning figure; prepare logs the real count): far more than an arm mixes in per language (arms cap
each language's examples), yet a 1.3 GB download for all 40 languages. A prefix holds the first documents
of the file, not a sample of the whole; languages with less text than the prefix download whole.

The reader decodes the xz prefix incrementally, drops the incomplete last line (where the prefix was cut) and
the blank document separators, and yields {"id": "cc100-<lang>-<line number>", "text": line}.
"""

from __future__ import annotations

import lzma
from collections.abc import Iterator
from pathlib import Path

from ..download import XzPrefix
from ..families import MaskedLM
from ..formats import RawFormatError
from . import Source, Task, register

URL = "https://data.statmt.org/cc-100/{name}.txt.xz"
MAX_BYTES = 32 * 2**20

# the 40 XTREME languages (PAN-X's), English first -> CC-100 file names
CC100_NAMES = {lang: lang for lang in (
    "en ar he vi id jv ms tl eu ml ta te af nl de el bn hi mr ur fa fr it pt es bg ru ja ka ko th sw yo my zh kk "
    "tr et fi hu").split()}
CC100_NAMES["zh"] = "zh-Hans"


def source_name(lang: str) -> str:
    return f"cc100_{lang}"


SOURCES = tuple(Source(name=source_name(lang), filename=f"{name}.txt.xz", url=URL.format(name=name), sha256=None,
                       max_bytes=MAX_BYTES)
                for lang, name in CC100_NAMES.items())


def corpus_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) of the complete lines of an xz file or prefix, blank lines included; the
    incomplete last line of a prefix is dropped."""
    prefix = XzPrefix(path)
    number, rest = 0, b""
    try:
        for block in prefix:
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                number += 1
                yield number, _text(path, number, line)
    except lzma.LZMAError as e:
        raise RawFormatError(f"{path}:{number + 1}: not a valid xz file or prefix of one ({e})") from None
    if rest and prefix.complete:  # the whole file was downloaded and its last line has no newline
        yield number + 1, _text(path, number + 1, rest)


def _text(path: Path, number: int, line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RawFormatError(f"{path}:{number}: not UTF-8 ({e.reason} at byte {e.start} of the line)") from None


def read(paths, lang, split):
    for number, line in corpus_lines(paths[source_name(lang)]):
        text = line.strip()
        if text:  # blank lines separate documents
            yield {"id": f"cc100-{lang}-{number}", "text": text}


register(
    Task(
        name="cc100",
        family=MaskedLM(),
        languages=tuple(CC100_NAMES),
        splits=("train",),
        raw=SOURCES,
        read=read,
        metric="perplexity",  # never scored: not a target task
        needs=lambda lang, split: (source_name(lang),),
        display="MLM",
        train_examples=300_000,
        translate_train=("native monolingual web text: CC-100, recreated by statmt.org from CCNet's CommonCrawl "
                         "2018 snapshots, one file per language; no translation"),
        citation="Conneau et al. 2020, Unsupervised Cross-lingual Representation Learning at Scale; Wenzek et al. "
                 "2020, CCNet: Extracting High Quality Monolingual Datasets from Web Crawl Data",
    )
)
