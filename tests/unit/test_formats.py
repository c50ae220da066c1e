"""Tests for xstilts.formats: archive access (zip, tar, tar.gz, nested archives), line-numbered text entries,
tab-only TSV splitting, CoNLL sentences with PAN-X 'lang:' prefixes, SQuAD JSON, and RawFormatError messages
that name archive:member:line."""

import gzip
import io
import json
import tarfile
import zipfile

import pytest

from xstilts.formats import (
    RawFormatError,
    conll_sentences,
    member_lines,
    read_member,
    squad_records,
    tsv_rows,
)


def make_zip(path, entries):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def tar_bytes(entries, gz=False, dot_prefix=False):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for name, data in entries.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(("./" if dot_prefix else "") + name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue()) if gz else raw.getvalue()


# ---------------------------------------------------------------------------------- archives ---


def test_read_member_zip_by_suffix_ignores_top_folder(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"XNLI-1.0/xnli.test.tsv": "x", "XNLI-1.0/xnli.dev.tsv": "y"})
    assert read_member(archive, "xnli.test.tsv") == b"x"
    assert read_member(archive, "XNLI-1.0/xnli.dev.tsv") == b"y"


def test_read_member_suffix_matches_whole_path_components_only(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"d/ten.tar.gz": "no", "d/en.tar.gz": "yes"})
    assert read_member(archive, "en.tar.gz") == b"yes"


@pytest.mark.parametrize("gz", [False, True])
def test_read_member_tar_and_targz_with_dot_prefix(tmp_path, gz):
    path = tmp_path / ("a.tar.gz" if gz else "a.tar")
    path.write_bytes(tar_bytes({"top/file.txt": "hello"}, gz=gz, dot_prefix=True))
    assert read_member(path, "file.txt") == b"hello"
    assert read_member(path, "top/file.txt") == b"hello"


def test_read_member_nested_archive_in_zip_and_in_tar(tmp_path):
    inner = tar_bytes({"test": "inner test\n", "dev": "inner dev\n"}, gz=True)
    zipped = make_zip(tmp_path / "outer.zip", {"panx_dataset/en.tar.gz": inner})
    tarred = tmp_path / "outer.tar"
    tarred.write_bytes(tar_bytes({"panx_dataset/en.tar.gz": inner}))
    for archive in (zipped, tarred):
        assert read_member(archive, "en.tar.gz!test") == b"inner test\n"
        assert read_member(archive, "en.tar.gz!dev") == b"inner dev\n"


def test_read_member_missing_entry_names_archive_and_member(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"d/x.tsv": "x"})
    with pytest.raises(RawFormatError) as e:
        read_member(archive, "y.tsv")
    assert str(archive) in str(e.value) and "'y.tsv'" in str(e.value) and "no entry" in str(e.value)


def test_read_member_ambiguous_entry_lists_the_hits(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"a/x.tsv": "1", "b/x.tsv": "2"})
    with pytest.raises(RawFormatError, match=r"2 entries \(a/x.tsv, b/x.tsv\)"):
        read_member(archive, "x.tsv")


def test_read_member_missing_inner_entry_names_nested_path(tmp_path):
    inner = tar_bytes({"dev": "d"}, gz=True)
    archive = make_zip(tmp_path / "outer.zip", {"p/en.tar.gz": inner})
    with pytest.raises(RawFormatError) as e:
        read_member(archive, "en.tar.gz!test")
    assert f"{archive}!en.tar.gz" in str(e.value)


def test_read_member_not_an_archive(tmp_path):
    path = tmp_path / "plain.zip"
    path.write_bytes(b"this is not an archive at all" * 40)
    with pytest.raises(RawFormatError, match="not a zip or tar archive"):
        read_member(path, "x")


def test_read_member_corrupt_inner_archive(tmp_path):
    archive = make_zip(tmp_path / "outer.zip", {"p/en.tar.gz": b"garbage" * 100})
    with pytest.raises(RawFormatError) as e:
        read_member(archive, "en.tar.gz!test")
    assert f"{archive}!en.tar.gz" in str(e.value)


# ------------------------------------------------------------------------------------- lines ---


def test_member_lines_numbers_labels_and_crlf(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"d/f.txt": "one\r\ntwo\n\nfour"})
    lines = list(member_lines(archive, "f.txt"))
    assert lines == [(f"{archive}:f.txt", 1, "one"), (f"{archive}:f.txt", 2, "two"),
                     (f"{archive}:f.txt", 3, ""), (f"{archive}:f.txt", 4, "four")]


def test_member_lines_bad_utf8_names_file_and_line(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"d/f.txt": b"ok\nfine\nbad \xff byte\n"})
    with pytest.raises(RawFormatError) as e:
        list(member_lines(archive, "f.txt"))
    assert f"{archive}:f.txt:3:" in str(e.value)


# --------------------------------------------------------------------------------------- tsv ---


def test_tsv_rows_header_first_row_blank_lines_and_quotes(tmp_path):
    text = 'a\tb\tlabel\n"He said \t she "left\tneutral\n\nx"\t"y\tentailment\n'
    archive = make_zip(tmp_path / "a.zip", {"d/t.tsv": text})
    rows = list(tsv_rows(archive, "t.tsv", columns=3, header=True))
    assert rows == [(f"{archive}:t.tsv:2", ['"He said ', ' she "left', "neutral"]),
                    (f"{archive}:t.tsv:4", ['x"', '"y', "entailment"])]


def test_tsv_rows_without_header_keeps_line_one(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"t.tsv": "1\t2\n3\t4\n"})
    assert [f for _, f in tsv_rows(archive, "t.tsv", columns=2, header=False)] == [["1", "2"], ["3", "4"]]


def test_tsv_rows_too_few_fields_names_file_and_line(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"d/t.tsv": "h1\th2\th3\nx\ty\tz\nonly\ttwo\n"})
    with pytest.raises(RawFormatError) as e:
        list(tsv_rows(archive, "t.tsv", columns=3, header=True))
    assert str(e.value).startswith(f"{archive}:t.tsv:3: expected 3 tab-separated fields, found 2")


# ------------------------------------------------------------------------------------- conll ---


def lines_of(text, label="f"):
    return [(label, i, line) for i, line in enumerate(text.split("\n"), start=1)]


def test_conll_sentences_strip_prefix_keeps_colons_in_token():
    text = "en:http://x\tO\nen::\tO\nen:Obama\tB-PER \n\n\nen:a:b\tO\n"
    sentences = list(conll_sentences(iter(lines_of(text)), strip_prefix=True))
    assert sentences == [("f:1", ["http://x", ":", "Obama"], ["O", "O", "B-PER"]), ("f:6", ["a:b"], ["O"])]


def test_conll_sentences_last_sentence_without_blank_line_and_no_prefix():
    sentences = list(conll_sentences(iter(lines_of("The\tDET\ncat\tNOUN")), strip_prefix=False))
    assert sentences == [("f:1", ["The", "cat"], ["DET", "NOUN"])]


@pytest.mark.parametrize("bad, message", [
    ("en:x\tO\tO", "f:2: expected 'token<TAB>tag', found 3 fields"),
    ("en:x O", "f:2: expected 'token<TAB>tag', found 1 fields"),
    ("Obama\tB-PER", "f:2: expected a 'lang:token' token, found 'Obama'"),
])
def test_conll_sentences_errors_name_file_and_line(bad, message):
    with pytest.raises(RawFormatError) as e:
        list(conll_sentences(iter(lines_of(f"en:ok\tO\n{bad}\n")), strip_prefix=True))
    assert str(e.value) == message


# ------------------------------------------------------------------------------------- squad ---


SQUAD = {"version": "1.1", "data": [
    {"title": "T1", "paragraphs": [
        {"context": "Paris is in France.", "qas": [
            {"id": "q1", "question": "Where?", "answers": [{"text": "France", "answer_start": 12}]},
            {"id": "q2", "question": "What?", "answers": [{"text": "Paris", "answer_start": 0},
                                                         {"text": "Paris", "answer_start": 0}]}]}]},
    {"paragraphs": [{"context": "No title.", "qas": [{"id": "q3", "question": "?", "answers": []}]}]},
]}


def test_squad_records_flattens_articles(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SQUAD))
    records = list(squad_records(path))
    assert [r["id"] for r in records] == ["q1", "q2", "q3"]
    assert records[0] == {"id": "q1", "title": "T1", "context": "Paris is in France.", "question": "Where?",
                          "answers": [{"text": "France", "answer_start": 12}]}
    assert len(records[1]["answers"]) == 2
    assert records[2]["title"] == "" and records[2]["answers"] == []
    assert list(squad_records(tmp_path / "unused", json.dumps(SQUAD).encode())) == records


@pytest.mark.parametrize("text", ["{not json", '{"version": "1.1"}'])
def test_squad_records_bad_file_names_it(tmp_path, text):
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(RawFormatError, match=f"^{path}: not a SQuAD-format JSON file"):
        list(squad_records(path))


def test_squad_records_malformed_question_names_file_and_id(tmp_path):
    data = json.loads(json.dumps(SQUAD))
    del data["data"][0]["paragraphs"][0]["qas"][1]["question"]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    with pytest.raises(RawFormatError) as e:
        list(squad_records(path))
    assert str(path) in str(e.value) and "q2" in str(e.value) and "question" in str(e.value)


def test_read_member_ignores_macos_resource_forks(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"XNLI-1.0/xnli.dev.tsv": "real",
                                            "__MACOSX/XNLI-1.0/._xnli.dev.tsv": "resource fork"})
    assert read_member(archive, "xnli.dev.tsv") == b"real"
