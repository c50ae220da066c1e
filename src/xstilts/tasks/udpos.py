"""UD-POS (Universal Dependencies v2.5, Zeman et al. 2019): UPOS tagging in 33 languages; fine-tuned on English.

Reproduces XTREME's UD-POS data (google-research/xtreme at 916402d/9fe0b14, the UD v2.5 version):

1. scripts/download_data.sh `download_udpos`: every `ud-treebanks-v2.5/*/*.conllu` belongs to the language
   before the first '_' of its file name (`en_ewt-ud-train.conllu` -> en), if that is an XTREME UD-POS
   language. There is no treebank-name map and no exclusion list: UD_Arabic-NYUAD ships without word forms
   (every FORM is '_'), so step 3 drops all its sentences.
2. third_party/ud-conversion-tools/conllu_to_conll.py `--lang <lang> --replace_subtokens_with_fused_forms
   --print_fused_forms` (lib/conll.py): empty nodes (ids like 8.1) are ignored; the words of a multiword token
   (a line with an id range like 3-4) are replaced by ONE word whose form is the multiword token's form and
   whose UPOS is that of its "span head" (`_choose_spanhead_from_heuristics`): the word with the fewest
   ancestors in the sentence graph (basic heads plus the enhanced DEPS heads, root 0 included) if it is the
   only one, else, among the words tied for fewest, the first whose UPOS comes earliest in the language's
   precedence list (POSRANKPRECEDENCEDICT below). So Spanish "del" (de/ADP + el/DET, both attached to the
   noun) becomes one ADP word. A tie between words whose UPOS is missing from that list makes `list.index`
   raise: the script dies before writing, and XTREME's data has no file for that treebank split, so we skip
   that file too (with a warning). `--print_fused_forms` has no effect: the replacement empties the
   multiword-token table before printing.
3. utils_preprocess.py `udpos_preprocess`: per language, the converted files are read in SORTED file-name
   order (916402d; unsorted os.walk order made the data non-deterministic) and go to train, dev or test by
   whether 'train', 'dev' or 'test' occurs in the file name (checked in that order; others are skipped). Each
   FORM and UPOS is stripped; a sentence is dropped when at least one word is '_' and no more than one word
   is not (9fe0b14, "mostly '_'": FTB and NYUAD ship without forms); then U+200C (zero-width non-joiner) and
   spaces are deleted inside every form.

Beyond XTREME: a word left empty by step 3 is removed with its tag (XTREME writes it as an empty token, which
its tokenized files turn into a bogus word; xtreme #30 removes "empty words (FTB)"), and a sentence left with
no words is dropped.

Not every language has every split: kk has train and test only, th, tl and yo test only. Asking for a split
the archive does not hold for a language raises RawFormatError.

The 300+ MB archive is read as a stream (tarfile 'r|*'): only the members of the requested language and split
are kept in memory, then processed in sorted order.
"""

from __future__ import annotations

import logging
import tarfile
from collections import Counter
from pathlib import Path

from ..families import Tagging
from ..formats import RawFormatError
from . import Source, Task, register

log = logging.getLogger(__name__)

LANGUAGES = tuple(
    "af ar bg de el en es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru ta te th tl tr ur vi yo zh".split()
)
UPOS = tuple("ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split())

# conllu_to_conll.py POSRANKPRECEDENCEDICT, keyed by its --lang (XTREME passes the file-name language).
# The default list ends in '' (it is split from a string with a trailing space); fr lists CONJ, not CCONJ.
DEFAULT_PRECEDENCE = tuple("VERB NOUN PROPN PRON ADJ NUM ADV INTJ AUX ADP DET PART CCONJ SCONJ X PUNCT ".split(" "))
PRECEDENCE = {
    "es": tuple("VERB AUX PRON ADP DET".split(" ")),
    "fr": tuple("VERB AUX PRON NOUN ADJ ADV ADP DET PART SCONJ CONJ".split(" ")),
    "it": tuple("VERB AUX ADV PRON ADP DET INTJ".split(" ")),
}

UD = Source(
    name="ud_treebanks_v2_5",
    filename="ud-treebanks-v2.5.tgz",
    url="https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-3105/ud-treebanks-v2.5.tgz",
    sha256="5ff973e44345a5f69b94cc1427158e14e851c967d58773cc2ac5a1d3adaca409",
)


class XtremeConversionCrash(Exception):
    """conllu_to_conll.py would die on this file, so XTREME's data has nothing from it."""


def file_language(filename: str) -> str:
    """download_data.sh: `IFS='_' read -r -a array <<< "$file"; lang=${array[0]}`."""
    return filename.split("_", 1)[0]


def file_split(filename: str) -> str | None:
    """utils_preprocess.py: 'train' in f, elif 'dev' in f, elif 'test' in f (on the converted .conll name)."""
    for split in ("train", "dev", "test"):
        if split in filename:
            return split
    return None


def _parse_id(text: str, where: str):
    """lib/conll.py parse_id: '_' and empty-node ids (with '.') are None, '3' is 3, '3-4' is (3, 4)."""
    if text == "_" or "." in text:
        return None
    try:
        ids = tuple(int(x) for x in text.split("-"))
    except ValueError:
        raise RawFormatError(f"{where}: bad id {text!r}") from None
    return ids[0] if len(ids) == 1 else ids


def _deps_heads(text: str) -> list[int]:
    """lib/conll.py parse_deps: the integer heads of the enhanced DEPS column (empty-node heads skipped)."""
    if text == "_":
        return []
    return [int(pair.split(":")[0]) for pair in text.split("|") if pair.split(":")[0].isdigit()]


def _ancestors(parents: dict[int, set[int]], node: int) -> int:
    """len(nx.ancestors(graph, node)): the nodes with a path to `node`, `node` itself excluded."""
    seen: set[int] = set()
    todo = list(parents.get(node, ()))
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(parents.get(n, ()))
    seen.discard(node)
    return len(seen)


def _span_head(span: list[int], parents, upos: dict[int, str], precedence: tuple[str, ...], where: str) -> int:
    """lib/conll.py DependencyTree._choose_spanhead_from_heuristics."""
    depth = [_ancestors(parents, x) for x in span]
    shallowest = min(depth)
    if Counter(depth)[shallowest] == 1:
        return span[depth.index(shallowest)]
    best_rank, head = len(precedence) + 1, -1
    for x, d in zip(span, depth):
        if d != shallowest:
            continue
        if upos[x] not in precedence:
            raise XtremeConversionCrash(f"{where}: multiword token {span[0]}-{span[-1]}: tied head candidates, and "
                                        f"UPOS {upos[x]!r} is not in the precedence list {' '.join(precedence)}")
        if precedence.index(upos[x]) < best_rank:
            best_rank, head = precedence.index(upos[x]), x
    return head


def _converted_sentence(rows, multi, label, first, precedence):
    """One sentence as conllu_to_conll.py writes it: [(form, upos)], multiword tokens fused. `rows` are
    (id, form, upos, head, deps, line number) of its words, `multi` {first id: (last id, form, line number)}."""
    n = len(rows)
    for expected, row in enumerate(rows, start=1):
        if row[0] != expected:
            raise RawFormatError(f"{label}:{first}: word ids are not 1..{n} in order")
        if row[3] > n:
            raise RawFormatError(f"{label}:{row[5]}: head {row[3]} is not a word of the sentence")
    if not multi:
        return [(row[1], row[2]) for row in rows]
    # the sentence graph of lib/conll.py: basic heads plus the integer heads of the enhanced DEPS column
    parents: dict[int, set[int]] = {}
    for word, _form, _upos, head, deps, number in rows:
        heads = {head, *_deps_heads(deps)}
        if max(heads) > n:
            raise RawFormatError(f"{label}:{number}: head {max(heads)} is not a word of the sentence")
        parents[word] = heads
    forms = {row[0]: row[1] for row in rows}
    upos = {row[0]: row[2] for row in rows}
    drop: set[int] = set()
    for start, (end, form, number) in sorted(multi.items()):
        where = f"{label}:{number}"
        if not 1 <= start < end <= n or drop.intersection(range(start, end + 1)):
            raise RawFormatError(f"{where}: multiword token {start}-{end} does not fit the sentence")
        span = list(range(start, end + 1))
        head = _span_head(span, parents, upos, precedence, where)
        forms[head] = form
        drop.update(x for x in span if x != head)
    return [(forms[row[0]], row[2]) for row in rows if row[0] not in drop]


def convert_file(lines, label: str, lang: str):
    """Sentences of one .conllu file as XTREME's UD-POS data has them: (first line number, tokens, tags).

    `lines` are the file's lines without newlines; `label` names the file in errors ('archive:member')."""
    precedence = PRECEDENCE.get(lang, DEFAULT_PRECEDENCE)
    rows, multi, first = [], {}, None
    sentences = []
    for number, line in enumerate(lines, start=1):
        if not line:
            if first is None:
                raise RawFormatError(f"{label}:{number}: empty sentence (two blank lines in a row)")
            if not rows:
                raise RawFormatError(f"{label}:{first}: sentence without words")
            sentences.append((first, _converted_sentence(rows, multi, label, first, precedence)))
            rows, multi, first = [], {}, None
            continue
        if first is None:
            first = number
        if line[0] == "#":
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise RawFormatError(f"{label}:{number}: expected 10 tab-separated CoNLL-U fields, found {len(fields)}")
        ident = fields[0]
        word = int(ident) if ident.isdigit() else _parse_id(ident, f"{label}:{number}")
        if isinstance(word, int):
            head = fields[6]
            if not head.isdigit():
                raise RawFormatError(f"{label}:{number}: word {word} has no head ({head!r})")
            rows.append((word, fields[1], fields[3], int(head), fields[8], number))
        elif word is not None:
            if len(word) != 2:
                raise RawFormatError(f"{label}:{number}: bad id {ident!r}")
            multi[word[0]] = (word[1], fields[1], number)
    if first is not None:
        # lib/conll.py read_conll_u appends a sentence at a blank line only: words after the last one are lost
        log.warning("%s:%d: no blank line after the last sentence; dropped, as XTREME drops it", label, first)
    for first, words in sentences:
        forms = [form.strip() for form, _ in words]
        underscores = forms.count("_")
        if underscores and underscores >= len(forms) - 1:
            continue  # mostly '_' (9fe0b14: kept when none, or fewer than all but one, are '_')
        kept = [("".join(form.replace("\u200c", "").split(" ")), tag.strip()) for form, (_, tag) in zip(forms, words)]
        kept = [(form, tag) for form, tag in kept if form]
        if kept:
            yield first, [form for form, _ in kept], [tag for _, tag in kept]


def _lines(data: bytes, label: str) -> list[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        number = data.count(b"\n", 0, e.start) + 1
        raise RawFormatError(f"{label}:{number}: not UTF-8 ({e.reason} at byte {e.start})") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline
    return lines


def treebank_files(archive: Path, lang: str, split: str) -> list[tuple[str, bytes]]:
    """(member path, bytes) of the `<top>/<treebank>/<lang>_*.conllu` files of one split, sorted by file name
    as utils_preprocess.py sorts the converted `.conll` names. One streaming pass over the archive."""
    found: dict[str, tuple[str, bytes]] = {}
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for member in tar:
                parts = member.name.removeprefix("./").split("/")
                if not member.isfile() or len(parts) != 3 or not parts[2].endswith(".conllu"):
                    continue
                name = parts[2]
                if file_language(name) != lang or file_split(name.replace("conllu", "conll", 1)) != split:
                    continue
                if name in found:
                    raise RawFormatError(f"{archive}: {name} occurs twice ({found[name][0]}, {member.name})")
                found[name] = (member.name, tar.extractfile(member).read())
    except tarfile.TarError as e:
        raise RawFormatError(f"{archive}: not a readable tar archive ({e})") from None
    if not found:
        raise RawFormatError(
            f"{archive}: UD v2.5 has no {split} data for {lang} (no */{lang}_*{split}*.conllu; XTREME has only "
            "train and test for kk, and only test for th, tl and yo)"
        )
    return [found[name] for name in sorted(found, key=lambda n: n.replace("conllu", "conll", 1))]


def read(paths, lang, split):
    archive = paths["ud_treebanks_v2_5"]
    for member, data in treebank_files(archive, lang, split):
        label = f"{archive}:{member}"
        stem = member.rsplit("/", 1)[1].removesuffix(".conllu")
        try:
            sentences = list(convert_file(_lines(data, label), label, lang))
        except XtremeConversionCrash as e:
            log.warning("skipping %s, as XTREME's conllu_to_conll.py does not convert it: %s", label, e)
            continue
        for first, tokens, tags in sentences:
            yield {"id": f"{stem}-{first}", "tokens": tokens, "tags": tags}


register(
    Task(
        name="udpos",
        family=Tagging(labels=UPOS),
        languages=LANGUAGES,
        splits=("train", "dev", "test"),
        raw=(UD,),
        read=read,
        metric="tagging_f1",
        train_task="udpos",
        group="tagging",
        display="POS",
        train_examples=21253,
        test_examples=2000,
        citation="Zeman et al. 2019, Universal Dependencies 2.5",
    )
)
