"""Readers for the raw download formats, shared by the task files.

Each reader yields normalized records (see xstilts.families) and raises `RawFormatError` naming the file (and
archive member) and line of a malformed row. Archives are read in place, without unpacking to disk.
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path


class RawFormatError(ValueError):
    """A raw row does not have the expected format; the message names file:line."""


def _find(names: list[str], member: str, archive: Path) -> str:
    """The archive entry whose path ends with `member` (archives differ in their top-level folder)."""
    hits = [n for n in names if n == member or n.endswith("/" + member)]
    if len(hits) != 1:
        found = "no entry" if not hits else f"{len(hits)} entries ({', '.join(hits[:3])})"
        raise RawFormatError(f"{archive}: expected one entry ending in {member!r}, found {found}")
    return hits[0]


def read_member(archive: Path, member: str) -> bytes:
    """Bytes of the entry ending in `member` inside a .zip, .tar or .tar.gz/.tgz archive. `member` may name an
    entry inside a nested archive with '!' (e.g. 'en.tar.gz!test' reads `test` from the inner en.tar.gz)."""
    outer, _, inner = member.partition("!")
    data = _read_one(archive, None, outer)
    if inner:
        return _read_one(Path(f"{archive}!{outer}"), io.BytesIO(data), inner)
    return data


def _read_one(label: Path, stream: io.BytesIO | None, member: str) -> bytes:
    if zipfile.is_zipfile(stream if stream is not None else label):
        with zipfile.ZipFile(stream if stream is not None else label) as z:
            return z.read(_find(z.namelist(), member, label))
    if stream is not None:
        stream.seek(0)
    try:
        with tarfile.open(fileobj=stream, mode="r:*") if stream else tarfile.open(label, mode="r:*") as t:
            entries = {m.name.removeprefix("./"): m for m in t.getmembers() if m.isfile()}
            return t.extractfile(entries[_find(list(entries), member, label)]).read()
    except tarfile.ReadError as e:
        raise RawFormatError(f"{label}: not a zip or tar archive ({e})") from None


def member_lines(archive: Path, member: str) -> Iterator[tuple[str, int, str]]:
    """(location label, 1-based line number, line without its newline) for a text entry of an archive."""
    label = f"{archive}:{member}"
    data = read_member(archive, member)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        number = data.count(b"\n", 0, e.start) + 1
        raise RawFormatError(f"{label}:{number}: not UTF-8 ({e.reason} at byte {e.start})") from None
    for number, line in enumerate(text.split("\n"), start=1):
        yield label, number, line.rstrip("\r")


def tsv_rows(archive: Path, member: str, columns: int, header: bool) -> Iterator[tuple[str, list[str]]]:
    """Rows of a tab-separated entry with at least `columns` fields, as ('file:line', fields). Fields are split
    on tabs only: MNLI/XNLI text contains quotes that csv would treat as quoting (the first-line and quoting
    bugs of older XTREME loaders, xtreme PR #58/#71, come from exactly this)."""
    for label, number, line in member_lines(archive, member):
        if (header and number == 1) or not line:
            continue
        fields = line.split("\t")
        if len(fields) < columns:
            raise RawFormatError(f"{label}:{number}: expected {columns} tab-separated fields, found {len(fields)}")
        yield f"{label}:{number}", fields


def conll_sentences(lines: Iterator[tuple[str, int, str]], strip_prefix: bool) -> Iterator[tuple[str, list[str], list[str]]]:
    """Sentences of a 'token<TAB>tag' file with blank lines between sentences, as (first line label, tokens,
    tags). With `strip_prefix`, tokens look like PAN-X's 'en:Obama' and the 'en:' is removed."""
    tokens: list[str] = []
    tags: list[str] = []
    start = ""
    for label, number, line in lines:
        if not line.strip():
            if tokens:
                yield start, tokens, tags
            tokens, tags = [], []
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise RawFormatError(f"{label}:{number}: expected 'token<TAB>tag', found {len(fields)} fields")
        token, tag = fields
        if strip_prefix:
            prefix, sep, token = token.partition(":")
            if not sep:
                raise RawFormatError(f"{label}:{number}: expected a 'lang:token' token, found {fields[0]!r}")
        if not tokens:
            start = f"{label}:{number}"
        tokens.append(token)
        tags.append(tag.strip())
    if tokens:
        yield start, tokens, tags


def squad_records(path: Path, data: bytes | None = None) -> Iterator[dict]:
    """Records of a SQuAD v1.1-format JSON file (SQuAD, XQuAD, MLQA, TyDiQA-GoldP)."""
    try:
        articles = json.loads(data if data is not None else path.read_bytes())["data"]
    except (json.JSONDecodeError, KeyError) as e:
        raise RawFormatError(f"{path}: not a SQuAD-format JSON file ({e})") from None
    for a, article in enumerate(articles):
        for p, paragraph in enumerate(article["paragraphs"]):
            for q, qa in enumerate(paragraph["qas"]):
                try:
                    record = {
                        "id": qa["id"],
                        "title": article.get("title", ""),
                        "context": paragraph["context"],
                        "question": qa["question"],
                        "answers": [{"text": x["text"], "answer_start": x["answer_start"]} for x in qa["answers"]],
                    }
                except (KeyError, TypeError) as e:
                    where = f"data[{a}].paragraphs[{p}].qas[{q}]"
                    raise RawFormatError(f"{path}: {where} (id {qa.get('id')!r}): missing or malformed {e}") from None
                yield record


def locate_answer(context: str, answer: dict) -> dict | None:
    """`answer` ({"text", "answer_start"}) placed where its text is in `context`, for machine-translated SQuAD
    files whose offsets need not fit the translated context: unchanged when `answer_start` points at the text;
    else the text, stripped of surrounding whitespace, at its only occurrence in the context; None when the text
    is empty, not in the context, or in it more than once (no way to tell which occurrence was meant)."""
    text, start = answer["text"], answer["answer_start"]
    if text.strip() and isinstance(start, int) and start >= 0 and context[start : start + len(text)] == text:
        return answer
    text = text.strip()
    first = context.find(text) if text else -1
    if first < 0 or context.find(text, first + 1) >= 0:
        return None
    return {"text": text, "answer_start": first}


# --------------------------------------------------------------------------------------------------------------
# Added for the English intermediate tasks (SNLI, ANLI, HellaSwag, CommonsenseQA, Cosmos QA, CCGbank).
# --------------------------------------------------------------------------------------------------------------


def _decoded(label: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        number = data.count(b"\n", 0, e.start) + 1
        raise RawFormatError(f"{label}:{number}: not UTF-8 ({e.reason} at byte {e.start})") from None


def file_lines(path: Path) -> Iterator[tuple[str, int, str]]:
    """(file label, 1-based line number, line without its newline) for a plain text file, as `member_lines`
    does for an archive entry."""
    label = str(path)
    text = _decoded(label, Path(path).read_bytes())
    for number, line in enumerate(text.split("\n"), start=1):
        yield label, number, line.rstrip("\r")


def json_lines(path: Path, member: str | None = None) -> Iterator[tuple[str, dict]]:
    """Objects of a JSON-lines file (or of the archive entry ending in `member`), as ('file:line', object).
    Blank lines are skipped; a line that is not a JSON object raises RawFormatError naming file:line."""
    lines = member_lines(path, member) if member is not None else file_lines(path)
    for label, number, line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            raise RawFormatError(f"{label}:{number}: not a JSON line ({e.msg} at column {e.colno})") from None
        if not isinstance(value, dict):
            raise RawFormatError(f"{label}:{number}: expected a JSON object, found {type(value).__name__}")
        yield f"{label}:{number}", value


def csv_records(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """Rows of a comma-separated file with a header line, as ('file:line', {column: value}). Quoted fields
    may hold commas, doubled quotes and newlines (Cosmos QA's contexts do); the line named is the line where
    the row starts. The header must name every column of `columns`; a row with a different number of fields
    than the header raises RawFormatError."""
    label = str(path)
    reader = csv.reader(io.StringIO(_decoded(label, Path(path).read_bytes()), newline=""))
    header = next(reader, None)
    if header is None:
        raise RawFormatError(f"{label}: empty file, expected a header line")
    missing = [c for c in columns if c not in header]
    if missing:
        raise RawFormatError(f"{label}:1: header lacks {', '.join(missing)} (found {', '.join(header)})")
    start = reader.line_num + 1
    try:
        for fields in reader:
            if fields:
                if len(fields) != len(header):
                    raise RawFormatError(f"{label}:{start}: expected {len(header)} comma-separated fields, "
                                         f"found {len(fields)}")
                yield f"{label}:{start}", dict(zip(header, fields))
            start = reader.line_num + 1
    except csv.Error as e:
        raise RawFormatError(f"{label}:{start}: malformed CSV ({e})") from None


def archive_entries(archive: Path, select) -> Iterator[tuple[str, bytes]]:
    """(entry name, bytes) of every file entry of a .zip, .tar or .tar.gz/.tgz archive whose name satisfies
    `select(name)`, in one pass over the archive (reading many small entries with `read_member` would reopen a
    compressed tar for each), sorted by name. Names lose a leading './'."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            names = sorted(n for n in z.namelist() if not n.endswith("/") and select(n))
            for name in names:
                yield name, z.read(name)
        return
    try:
        with tarfile.open(archive, mode="r:*") as t:
            found = {}
            for m in t:
                name = m.name.removeprefix("./")
                if m.isfile() and select(name):
                    found[name] = t.extractfile(m).read()
    except tarfile.ReadError as e:
        raise RawFormatError(f"{archive}: not a zip or tar archive ({e})") from None
    for name in sorted(found):
        yield name, found[name]
