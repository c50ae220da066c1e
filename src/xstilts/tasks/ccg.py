"""CCG supertagging on CCGbank 1.1 (Hockenmaier & Steedman 2007; LDC2005T13), English: an X-STILTs intermediate
task (token tagging, one lexical category per word of the Penn Treebank WSJ text).

CCGbank is licensed by the LDC, so its source is `manual`: the archive has to be put in place by hand. CCG cannot
be machine-translated (the supertags belong to the English derivations), so it has no translated arm.

Reading follows jiant's CCG preparation (scripts/ccg/ccg_proc.py and ccg_to_num.py of jiant 1.x, whose output
the jiant 2 CCGTask reads with a tags_to_id map and `LABELS = range(1363)`):
  - the leaves `(<L category mod_POS orig_POS word pred_arg_category>)` of the AUTO files give each sentence's
    words (as written, PTB tokens such as -LRB-) and supertags;
  - sections: jiant's split, train 00-18, dev 19-21, test 22-24 (SECTIONS below). Note this is not the
    split of the CCG parsing literature (train 02-21, dev 00, test 23); change SECTIONS for that one;
  - the label set is every category occurring anywhere in CCGbank, 1363 categories by jiant's count. Our family
    needs its labels when the task is registered, before any data is read, so labels are category ids: "0" to
    "1362", numbered by frequency over all 25 sections (most frequent first, ties by the category string;
    jiant numbers them by first occurrence in unordered directory listings, so its ids are arbitrary too). A
    category beyond the 1363rd (none, if the archive is the release jiant counted) becomes "UNK". Records keep
    the category strings in `supertags` for reading.
Only training reads this task; its metric entry (jiant reports token accuracy) is not used for scoring here.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from ..families import Tagging
from ..formats import RawFormatError, archive_entries
from . import Source, Task, register

NUM_CATEGORIES = 1363  # jiant: "There are 1363 supertags in CCGBank"
UNKNOWN = "UNK"
CCG_LABELS = tuple(str(i) for i in range(NUM_CATEGORIES)) + (UNKNOWN,)
SECTIONS = {
    "train": tuple(f"{s:02d}" for s in range(0, 19)),
    "dev": ("19", "20", "21"),
    "test": ("22", "23", "24"),
}

CCGBANK = Source(
    name="ccgbank",
    filename="LDC2005T13.tgz",
    url=None,
    sha256=None,
    manual=(
        "CCGbank 1.1 (LDC2005T13) needs a licence from the Linguistic Data Consortium and cannot be downloaded "
        "by a script. Get it from https://catalog.ldc.upenn.edu/LDC2005T13 and put the archive, unchanged, at "
        "{path} (any .tgz, .tar or .zip holding ccgbank_1_1/data/AUTO/00/wsj_0001.auto and the other AUTO "
        "files will do: an unpacked copy can be packed with `tar czf {path} ccgbank_1_1`)."
    ),
)

AUTO_FILE = re.compile(r"(?:^|/)data/AUTO/(\d\d)/wsj_\d{4}\.auto$")
LEAF = re.compile(r"\(<L (\S+) (\S+) (\S+) (\S+) (\S+)>\)")


def _sentences(archive: Path):
    """(section, 'entry:line', sentence id, words, categories) of every derivation in the AUTO files."""
    found = False
    for name, data in archive_entries(archive, lambda n: AUTO_FILE.search(n) is not None):
        found = True
        section = AUTO_FILE.search(name).group(1)
        sentence_id = None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise RawFormatError(f"{archive}:{name}: not UTF-8 ({e.reason} at byte {e.start})") from None
        for number, line in enumerate(text.split("\n"), start=1):
            line = line.strip()
            where = f"{archive}:{name}:{number}"
            if line.startswith("ID="):
                sentence_id = line.split()[0][3:]
            elif line:
                leaves = LEAF.findall(line)
                if sentence_id is None or not leaves:
                    raise RawFormatError(f"{where}: expected an ID= line followed by a derivation with (<L ...>) "
                                         f"leaves")
                yield section, where, sentence_id, [leaf[3] for leaf in leaves], [leaf[0] for leaf in leaves]
                sentence_id = None
    if not found:
        raise RawFormatError(f"{archive}: no data/AUTO/<section>/wsj_*.auto entries (is this CCGbank 1.1?)")


def _read_all(archive: Path):
    """All sentences and the category -> label id map; read once per archive version (train and dev both need
    the whole archive, since ids count every section)."""
    stat = archive.stat()
    return _read_all_cached(archive, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1)
def _read_all_cached(archive: Path, mtime_ns: int, size: int):
    sentences = list(_sentences(archive))
    counts = Counter(category for *_, categories in sentences for category in categories)
    ranked = sorted(counts, key=lambda c: (-counts[c], c))
    ids = {category: str(i) if i < NUM_CATEGORIES else UNKNOWN for i, category in enumerate(ranked)}
    return sentences, ids


def read(paths, lang, split):
    sentences, ids = _read_all(Path(paths["ccgbank"]))
    wanted = set(SECTIONS[split])
    for section, where, sentence_id, words, categories in sentences:
        if section in wanted:
            yield {"id": sentence_id, "tokens": words, "tags": [ids[c] for c in categories], "supertags": categories}


register(
    Task(
        name="ccg",
        family=Tagging(labels=CCG_LABELS),
        languages=("en",),
        splits=tuple(SECTIONS),
        raw=(CCGBANK,),
        read=read,
        metric="accuracy",
        display="CCG",
        train_examples=38015,
        citation="Hockenmaier & Steedman 2007, CCGbank: A Corpus of CCG Derivations and Dependency Structures "
                 "Extracted from the Penn Treebank",
    )
)
