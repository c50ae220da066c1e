"""Tests for xstilts.prepare (raw sources -> validated JSONL) and xstilts.jsonl (atomic JSON/JSONL files): the
output is written atomically, nothing is left behind on failure, and every error names what is wrong."""

import json

import pytest

from xstilts.demo import XNLI_HEADER, raw_files, write_mirror
from xstilts.families import RecordError
from xstilts.jsonl import read_jsonl, write_json, write_jsonl
from xstilts.prepare import prepare
from xstilts.tasks import get_task
from archives import make_zip


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    write_mirror(root, raw_files(sizes={"mnli": 9, "xnli": 5, "panx_train": 4, "panx_eval": 3, "squad": 4,
                                        "xquad": 3, "tatoeba": 4}))
    return root


def raw_for(mirror, task, lang, split):
    return {s.name: mirror / s.name / s.filename for s in get_task(task).sources_for(lang, split)}


def assert_nothing_written(folder):
    assert list(folder.iterdir()) == []


def xnli_zip(path, rows):
    lines = ["\t".join(XNLI_HEADER)] + ["\t".join([lang, label, "_", "_", "_", "_", a, b, "0", pair] + ["x"] * 9)
                                        for lang, label, a, b, pair in rows]
    return make_zip(path, {"XNLI-1.0/xnli.test.tsv": "\n".join(lines) + "\n"})


@pytest.mark.parametrize("task, lang, split, count", [
    ("xnli", "de", "test", 5), ("mnli", "en", "train", 9), ("panx", "ru", "dev", 3), ("xquad", "de", "test", 3),
    ("squad", "en", "train", 4), ("tatoeba", "ru", "test", 8),
])
def test_prepare_writes_validated_jsonl(mirror, tmp_path, task, lang, split, count):
    out = tmp_path / "out" / task / lang / f"{split}.jsonl"
    assert prepare(task, lang, split, raw_for(mirror, task, lang, split), out) == count
    records = list(read_jsonl(out))
    assert records == list(get_task(task).read(raw_for(mirror, task, lang, split), lang, split))
    assert sorted(p.name for p in out.parent.iterdir()) == [f"{split}.jsonl"]  # no temp file left
    assert out.read_text(encoding="utf-8").count("\n") == count


def test_prepare_accepts_string_paths(mirror, tmp_path):
    raw = {k: str(v) for k, v in raw_for(mirror, "xnli", "en", "test").items()}
    assert prepare("xnli", "en", "test", raw, str(tmp_path / "x.jsonl")) == 5


def test_prepare_unknown_language_lists_allowed(mirror, tmp_path):
    with pytest.raises(ValueError) as e:
        prepare("xnli", "xx", "test", raw_for(mirror, "xnli", "en", "test"), tmp_path / "o.jsonl")
    assert "xnli has no language 'xx'" in str(e.value)
    assert "ar, bg, de, el, en, es, fr, hi, ru, sw, th, tr, ur, vi, zh" in str(e.value)
    assert_nothing_written(tmp_path)


def test_prepare_unknown_split_lists_allowed(mirror, tmp_path):
    with pytest.raises(ValueError, match="xnli has no split 'train'; it has dev, test"):
        prepare("xnli", "en", "train", raw_for(mirror, "xnli", "en", "test"), tmp_path / "o.jsonl")
    assert_nothing_written(tmp_path)


def test_prepare_duplicate_id(tmp_path):
    raw = xnli_zip(tmp_path / "XNLI-1.0.zip", [("en", "neutral", "a", "b", "1"),
                                                       ("en", "neutral", "c", "d", "2"),
                                                       ("en", "entailment", "e", "f", "1")])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(ValueError) as e:
        prepare("xnli", "en", "test", {"xnli": raw}, out_dir / "test.jsonl")
    assert str(e.value) == "xnli en/test record 3 (id 'en-1'): duplicate id"
    assert_nothing_written(out_dir)


def test_prepare_family_check_failure_names_task_record_and_id(tmp_path):
    text = "premise\thypo\tlabel\na\tb\tneutral\nc\t\tentailment\n"
    raw = make_zip(tmp_path / "XNLI-MT-1.0.zip", {"XNLI-MT-1.0/multinli/multinli.train.en.tsv": text})
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(RecordError) as e:
        prepare("mnli", "en", "train", {"xnli_mt": raw}, out_dir / "train.jsonl")
    assert str(e.value) == "mnli en/train record 2 (id 'mnli-3'): sentence-pair record has an empty text_b"
    assert_nothing_written(out_dir)


def test_prepare_unknown_tag_names_record(tmp_path):
    import gzip
    import io
    import tarfile

    data = b"en:a\tO\n\nen:b\tB-MISC\n\n"
    raw_tar = io.BytesIO()
    with tarfile.open(fileobj=raw_tar, mode="w") as t:
        info = tarfile.TarInfo("test")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    raw = make_zip(tmp_path / "AmazonPhotos.zip", {"panx_dataset/en.tar.gz": gzip.compress(raw_tar.getvalue())})
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(RecordError, match=r"^panx en/test record 2 \(id 'en-test-3'\): unknown tags B-MISC \(known: "):
        prepare("panx", "en", "test", {"panx": raw}, out_dir / "test.jsonl")
    assert_nothing_written(out_dir)


def test_prepare_raw_format_error_leaves_nothing(tmp_path):
    raw = make_zip(tmp_path / "XNLI-1.0.zip", {"XNLI-1.0/xnli.test.tsv": "\t".join(XNLI_HEADER) + "\nen\tneutral\n"})
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(ValueError, match=rf"^{raw}:xnli.test.tsv:2: "):
        prepare("xnli", "en", "test", {"xnli": raw}, out_dir / "test.jsonl")
    assert_nothing_written(out_dir)


def test_prepare_empty_output_is_an_error_and_removed(tmp_path):
    raw = xnli_zip(tmp_path / "XNLI-1.0.zip", [("de", "neutral", "a", "b", "1")])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(ValueError, match="^xnli en/test: the raw data holds no records"):
        prepare("xnli", "en", "test", {"xnli": raw}, out_dir / "test.jsonl")
    assert_nothing_written(out_dir)


def test_prepare_failure_keeps_no_partial_output_over_an_old_file(tmp_path):
    raw = xnli_zip(tmp_path / "XNLI-1.0.zip", [("en", "neutral", "a", "b", "1"), ("en", "bogus", "a", "b", "2")])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "test.jsonl"
    with pytest.raises(ValueError):
        prepare("xnli", "en", "test", {"xnli": raw}, out)
    assert not out.exists()
    assert_nothing_written(out_dir)


# ------------------------------------------------------------------------------------- jsonl ---


def test_write_jsonl_round_trip_unicode_and_count(tmp_path):
    records = [{"id": "a", "text": "Grüße, мир"}, {"id": "b", "tokens": ["x"], "n": None}]
    path = tmp_path / "sub" / "f.jsonl"
    assert write_jsonl(path, iter(records)) == 2
    assert list(read_jsonl(path)) == records
    assert "Grüße" in path.read_text(encoding="utf-8")
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.jsonl"]


def test_write_jsonl_failure_keeps_old_file_and_no_temp(tmp_path):
    path = tmp_path / "f.jsonl"
    write_jsonl(path, [{"id": 1}])

    def broken():
        yield {"id": 2}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_jsonl(path, broken())
    assert list(read_jsonl(path)) == [{"id": 1}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.jsonl"]


def test_read_jsonl_bad_line_names_file_and_line(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": \n')
    with pytest.raises(ValueError, match=rf"^{path}:3: not a JSON object"):
        list(read_jsonl(path))


def test_write_json_atomic_and_sorted(tmp_path):
    path = tmp_path / "d" / "f.json"
    write_json(path, {"b": 1, "a": ["ü"]})
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": ["ü"], "b": 1}
    assert path.read_text(encoding="utf-8").index('"a"') < path.read_text(encoding="utf-8").index('"b"')
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.json"]


def test_write_json_failure_leaves_no_temp_and_keeps_old_file(tmp_path):
    path = tmp_path / "f.json"
    write_json(path, {"ok": True})
    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]
