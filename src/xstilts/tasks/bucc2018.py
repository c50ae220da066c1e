"""BUCC 2018 (Zweigenbaum et al. 2018): parallel sentences hidden in comparable corpora, found by margin mining.

XTREME (scripts/download_data.sh `download_bucc18`) uses the shared task's "training" archives as its TEST
set and the "sample" archives as its DEV set, and deletes the test gold. We keep the gold (it is in the
archive) so that scores can be computed locally; the mining threshold is still tuned on dev only (xtreme #60).

Each archive unpacks to `bucc2018/<lang>-en/<lang>-en.<training|sample>.{<lang>,en,gold}`: the sentence files
are `id<TAB>sentence` lines (ids like `de-000000001`, `en-000000001`), the gold file `src_id<TAB>en_id` lines
(the non-English id first). XTREME splits the sentence files with `cut -f1` / `cut -f2`; we take the same two
fields.

Records (see xstilts.families.retrieval, mining mode): `{"id": "<part>:<BUCC id>", "side", "text", "part",
"gold"}`. Both parts number their sentences from 1 and English ids repeat across the four language pairs, so
the id carries its part, and every (task, language) prepared file holds one language pair's ids only
(xtreme #69). Split "test" holds the dev part (to tune the threshold) followed by the test part; split "dev"
holds the dev part alone.
"""

from __future__ import annotations

from ..families import Retrieval
from ..formats import RawFormatError, member_lines
from . import Source, Task, register

LANGUAGES = ("de", "fr", "ru", "zh")  # evaluate.py TASK2LANGS order

# XTREME part -> the shared task's name for it (and its archive)
PARTS = {"dev": "sample", "test": "training"}

# sha256 pins (Hugging Face datasets' xtreme loader checksums; TFDS states the same)
SHA256 = {
    ("de", "dev"): "8e16ba8b02ef8d648b06adfbd6dfb188f43524e18f97b2b12a14a086caac62f3",
    ("de", "test"): "766e0fdebbd1438fb87c21254828eb13c8b997d8fbab002103dd060dcac50c5c",
    ("fr", "dev"): "df9eb3966954e163c9264076f7c9c1eb56d9d8a91855f9d3afbf2c0fdaef0a08",
    ("fr", "test"): "53c0d0e7dd97dc89593a2db25a26c5f0ccdc7113e8451263bb0c80e4c4c7dc30",
    ("ru", "dev"): "fce3cabc7ee50ddb4b18aa6fb090e2669c8383d2a29fc97eed6ae70fed9a23e5",
    ("ru", "test"): "1895df56e936ca3d4f5b12299ceffe0b7ff4806584c40bdaa3ae1d445f25afa5",
    ("zh", "dev"): "a3425be5c0320ee131a0927b66c3e29befb3b481ebf1b87257e660e514bc16ac",
    ("zh", "test"): "3facb71798277c8f44dc78c1f8ae2110f254d0e14799f3508eedd54b4236877a",
}
SOURCES = {
    (lang, part): Source(
        name=f"bucc2018-{lang}-{part}",
        filename=f"bucc2018-{lang}-en.{bucc}-gold.tar.bz2",
        url=f"https://comparable.limsi.fr/bucc2018/bucc2018-{lang}-en.{bucc}-gold.tar.bz2",
        sha256=SHA256[(lang, part)],
    )
    for lang in LANGUAGES
    for part, bucc in PARTS.items()
}


def needs(lang: str, split: str) -> tuple[str, ...]:
    parts = ("dev", "test") if split == "test" else ("dev",)
    return tuple(SOURCES[lang, part].name for part in parts)


def _sentences(archive, member: str) -> dict[str, str]:
    """{BUCC id: sentence} of an `id<TAB>sentence` file, in file order."""
    lines = list(member_lines(archive, member))
    if lines and not lines[-1][2]:
        lines.pop()  # the final newline
    sentences: dict[str, str] = {}
    for label, number, line in lines:
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip():
            raise RawFormatError(f"{label}:{number}: expected 'id<TAB>sentence', found {line[:80]!r}")
        # `cut -f1` / `cut -f2`, as XTREME's run_bucc2018.sh; ids are stripped as its read_sent2id does
        sentence_id, text = fields[0].strip(), fields[1]
        if sentence_id in sentences:
            raise RawFormatError(f"{label}:{number}: id {sentence_id} occurs twice")
        sentences[sentence_id] = text
    return sentences


def _gold(archive, member: str, src: dict[str, str], tgt: dict[str, str]) -> dict[str, str]:
    """{source id: English id} of a gold file, checked against both sentence files."""
    gold: dict[str, str] = {}
    for label, number, line in member_lines(archive, member):
        if not line.strip():
            continue
        fields = line.strip().split("\t")
        if len(fields) != 2:
            raise RawFormatError(f"{label}:{number}: expected 'src_id<TAB>en_id', found {line[:80]!r}")
        src_id, tgt_id = fields
        if src_id not in src or tgt_id not in tgt:
            missing = src_id if src_id not in src else tgt_id
            raise RawFormatError(f"{label}:{number}: id {missing} is not in the sentence files")
        if src_id in gold:
            raise RawFormatError(f"{label}:{number}: {src_id} has a second gold pair ({gold[src_id]}, {tgt_id})")
        gold[src_id] = tgt_id
    return gold


def read_part(paths, lang: str, part: str):
    archive = paths[SOURCES[lang, part].name]
    stem = f"{lang}-en/{lang}-en.{PARTS[part]}"
    src = _sentences(archive, f"{stem}.{lang}")
    tgt = _sentences(archive, f"{stem}.en")
    gold = _gold(archive, f"{stem}.gold", src, tgt)
    for sentence_id, text in src.items():
        tgt_id = gold.get(sentence_id)
        yield {"id": f"{part}:{sentence_id}", "side": "src", "text": text, "part": part,
               "gold": None if tgt_id is None else f"{part}:{tgt_id}"}
    for sentence_id, text in tgt.items():
        yield {"id": f"{part}:{sentence_id}", "side": "tgt", "text": text, "part": part, "gold": None}


def read(paths, lang, split):
    for part in ("dev", "test") if split == "test" else ("dev",):
        yield from read_part(paths, lang, part)


register(
    Task(
        name="bucc2018",
        family=Retrieval(mode="mining"),
        languages=LANGUAGES,
        splits=("dev", "test"),
        raw=tuple(SOURCES.values()),
        read=read,
        metric="bucc_f1",
        group="retrieval",
        display="BUCC",
        test_examples=400000,
        citation="Zweigenbaum, Sharoff & Rapp 2018, Overview of the Third BUCC Shared Task: Spotting Parallel "
                 "Sentences in Comparable Corpora",
        needs=needs,
    )
)
