"""Tests for the task readers (xstilts.tasks.*) on files in the exact raw formats and archive layouts of the
real downloads: the demo's generated sources (xstilts.demo.raw_files) plus hand-written edge cases (XNLI first
data row, XNLI-MT quotes, PAN-X Dropbox tar layout and 'lang:' tokens holding ':', Tatoeba line alignment).
Malformed rows raise RawFormatError naming archive:member:line."""

import gzip
import io
import json
import re
import tarfile
import zipfile

import pytest

from xstilts.demo import XNLI_HEADER, raw_files, write_mirror
from xstilts.formats import RawFormatError
from xstilts.tasks import SOURCES, TASKS, get_task
from archives import make_zip

SIZES = {"mnli": 12, "xnli": 6, "panx_train": 8, "panx_eval": 5, "squad": 7, "xquad": 4, "tatoeba": 9}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    write_mirror(root, raw_files(seed=3, sizes=SIZES))
    return root


def paths_for(mirror, task, lang, split):
    return {s.name: mirror / s.name / s.filename for s in get_task(task).sources_for(lang, split)}


def read(mirror, task, lang, split):
    return list(get_task(task).read(paths_for(mirror, task, lang, split), lang, split))


def targz(entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for name, data in entries.items():
            data = data.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue())


def xnli_row(lang, label, s1, s2, pair_id):
    return "\t".join([lang, label, "(_)", "(_)", "(_)", "(_)", s1, s2, "7", pair_id, "genre",
                      label, label, label, label, label, s1, s2, "True"])


# ------------------------------------------------------------------------------ demo sources ---


def test_demo_sources_are_registered_with_their_filenames(mirror):
    for name in raw_files(sizes=SIZES):
        source, filename = name.split("/")
        assert SOURCES[source].filename == filename


@pytest.mark.parametrize("task, lang, split, count", [
    ("mnli", "en", "train", SIZES["mnli"]),
    ("xnli", "en", "dev", SIZES["xnli"]), ("xnli", "de", "test", SIZES["xnli"]), ("xnli", "ru", "test", SIZES["xnli"]),
    ("panx", "en", "train", SIZES["panx_train"]), ("panx", "de", "dev", SIZES["panx_eval"]),
    ("panx", "ru", "test", SIZES["panx_eval"]),
    ("squad", "en", "train", SIZES["squad"]), ("squad", "en", "dev", SIZES["xquad"]),
    ("xquad", "en", "test", SIZES["xquad"]), ("xquad", "ru", "test", SIZES["xquad"]),
    ("tatoeba", "de", "test", 2 * SIZES["tatoeba"]), ("tatoeba", "ru", "test", 2 * SIZES["tatoeba"]),
])
def test_demo_sources_read_and_pass_family_checks(mirror, task, lang, split, count):
    records = read(mirror, task, lang, split)
    assert len(records) == count
    assert len({r["id"] for r in records}) == count
    for number, record in enumerate(records, start=1):
        get_task(task).family.check_record(record, f"record {number}")


def test_demo_mnli_first_data_row_kept_and_contradictory_mapped(mirror):
    records = read(mirror, "mnli", "en", "train")
    assert records[0]["id"] == "mnli-2"  # line 1 is the header, line 2 the first example
    assert {r["label"] for r in records} == {"contradiction", "entailment", "neutral"}
    raw = zipfile.ZipFile(mirror / "xnli_mt" / "XNLI-MT-1.0.zip").read(
        "XNLI-MT-1.0/multinli/multinli.train.en.tsv").decode()
    assert "contradictory" in raw and "\tcontradiction\n" not in raw
    first = raw.split("\n")[1].split("\t")
    assert (records[0]["text_a"], records[0]["text_b"]) == (first[0], first[1])


def test_demo_xnli_filters_language(mirror):
    de = read(mirror, "xnli", "de", "test")
    en = read(mirror, "xnli", "en", "test")
    assert all(r["id"].startswith("de-") for r in de) and all(r["id"].startswith("en-") for r in en)
    assert {r["text_a"] for r in de}.isdisjoint({r["text_a"] for r in en})


def test_demo_panx_strips_language_prefix(mirror):
    records = read(mirror, "panx", "de", "test")
    assert not any(t.startswith("de:") for r in records for t in r["tokens"])
    assert all(len(r["tokens"]) == len(r["tags"]) for r in records)


def test_demo_tatoeba_alignment(mirror):
    records = read(mirror, "tatoeba", "de", "test")
    tgt = [r for r in records if r["side"] == "tgt"]
    src = [r for r in records if r["side"] == "src"]
    assert [r["id"] for r in tgt] == [f"eng-{i}" for i in range(SIZES["tatoeba"])]
    assert [r["gold"] for r in src] == [r["id"] for r in tgt]
    # the demo's translations share their last token (a number) with their English side
    assert all(s["text"].split()[-1] == t["text"].split()[-1] for s, t in zip(src, tgt))


# ------------------------------------------------------------------------------------ XNLI ---


def xnli_zip(tmp_path, rows, split="test"):
    text = "\t".join(XNLI_HEADER) + "\n" + "".join(r + "\n" for r in rows)
    return make_zip(tmp_path / "XNLI-1.0.zip", {f"XNLI-1.0/xnli.{split}.tsv": text})


def test_xnli_first_data_row_not_dropped_and_labels(tmp_path):
    archive = xnli_zip(tmp_path, [
        xnli_row("en", "contradiction", "First premise.", "First hypothesis.", "1"),
        xnli_row("de", "neutral", "Erste Prämisse.", "Erste Hypothese.", "1"),
        xnli_row("en", "contradictory", 'He said "no', 'She "left"', "2"),
        xnli_row("en", "entailment", "A", "B", "3"),
    ])
    records = list(get_task("xnli").read({"xnli": archive}, "en", "test"))
    assert records == [
        {"id": "en-1", "text_a": "First premise.", "text_b": "First hypothesis.", "label": "contradiction"},
        {"id": "en-2", "text_a": 'He said "no', "text_b": 'She "left"', "label": "contradiction"},
        {"id": "en-3", "text_a": "A", "text_b": "B", "label": "entailment"},
    ]
    assert [r["id"] for r in get_task("xnli").read({"xnli": archive}, "de", "test")] == ["de-1"]


def test_xnli_reads_the_requested_split(tmp_path):
    archive = make_zip(tmp_path / "XNLI-1.0.zip", {
        "XNLI-1.0/xnli.dev.tsv": "\t".join(XNLI_HEADER) + "\n" + xnli_row("en", "neutral", "dev", "d", "5") + "\n",
        "XNLI-1.0/xnli.test.tsv": "\t".join(XNLI_HEADER) + "\n" + xnli_row("en", "neutral", "test", "t", "6") + "\n",
    })
    assert [r["text_a"] for r in get_task("xnli").read({"xnli": archive}, "en", "dev")] == ["dev"]
    assert [r["text_a"] for r in get_task("xnli").read({"xnli": archive}, "en", "test")] == ["test"]


def test_xnli_short_row_names_archive_member_and_line(tmp_path):
    archive = xnli_zip(tmp_path, [xnli_row("en", "neutral", "a", "b", "1"), "en\tneutral\ta\tb"])
    with pytest.raises(RawFormatError) as e:
        list(get_task("xnli").read({"xnli": archive}, "en", "test"))
    assert str(e.value).startswith(f"{archive}:xnli.test.tsv:3: expected 10 tab-separated fields, found 4")


def test_xnli_unknown_label_names_location(tmp_path):
    archive = xnli_zip(tmp_path, [xnli_row("en", "neutral", "a", "b", "1"), xnli_row("en", "maybe", "a", "b", "2")])
    with pytest.raises(RawFormatError) as e:
        list(get_task("xnli").read({"xnli": archive}, "en", "test"))
    assert str(e.value) == f"{archive}:xnli.test.tsv:3: unknown NLI label 'maybe'"


# ------------------------------------------------------------------------------------ MNLI ---


def mnli_zip(tmp_path, text):
    return make_zip(tmp_path / "XNLI-MT-1.0.zip", {"XNLI-MT-1.0/multinli/multinli.train.en.tsv": text})


def test_mnli_quotes_are_text_not_csv_quoting(tmp_path):
    text = ('premise\thypo\tlabel\n'
            '"Conceptually cream skimming has two basic dimensions\tProduct and geography\tneutral\n'
            'He said, "That\'s it.\t"It is not" she said\tcontradictory\n'
            '""\t""quoted""\tentailment\n')
    records = list(get_task("mnli").read({"xnli_mt": mnli_zip(tmp_path, text)}, "en", "train"))
    assert records == [
        {"id": "mnli-2", "text_a": '"Conceptually cream skimming has two basic dimensions',
         "text_b": "Product and geography", "label": "neutral"},
        {"id": "mnli-3", "text_a": 'He said, "That\'s it.', "text_b": '"It is not" she said', "label": "contradiction"},
        {"id": "mnli-4", "text_a": '""', "text_b": '""quoted""', "label": "entailment"},
    ]


def test_mnli_crlf_and_missing_final_newline(tmp_path):
    text = "premise\thypo\tlabel\r\na\tb\tneutral\r\nc\td\tentailment"
    records = list(get_task("mnli").read({"xnli_mt": mnli_zip(tmp_path, text)}, "en", "train"))
    assert [(r["text_a"], r["label"]) for r in records] == [("a", "neutral"), ("c", "entailment")]


def test_mnli_bad_row_names_location(tmp_path):
    archive = mnli_zip(tmp_path, "premise\thypo\tlabel\na\tb\tneutral\nno tabs here\n")
    with pytest.raises(RawFormatError) as e:
        list(get_task("mnli").read({"xnli_mt": archive}, "en", "train"))
    assert str(e.value).startswith(f"{archive}:multinli/multinli.train.en.tsv:3: ")


# ----------------------------------------------------------------------------------- PAN-X ---


PANX_TEST = "en:Barack\tB-PER\nen:Obama\tI-PER\nen:visits\tO\n\nen:http://x.org\tO\nen:Paris\tB-LOC\n\n"
PANX_EXPECTED = [
    {"id": "en-test-1", "tokens": ["Barack", "Obama", "visits"], "tags": ["B-PER", "I-PER", "O"]},
    {"id": "en-test-5", "tokens": ["http://x.org", "Paris"], "tags": ["O", "B-LOC"]},
]


def panx_inner(test=PANX_TEST):
    return targz({"dev": "en:a\tO\n\n", "test": test, "train": "en:b\tO\n\n"})


def test_panx_nested_targz_in_amazonphotos_zip(tmp_path):
    archive = make_zip(tmp_path / "AmazonPhotos.zip", {"panx_dataset/en.tar.gz": panx_inner(),
                                                       "panx_dataset/de.tar.gz": targz({"test": "de:x\tO\n"})})
    assert list(get_task("panx").read({"panx": archive}, "en", "test")) == PANX_EXPECTED
    assert list(get_task("panx").read({"panx": archive}, "en", "dev"))[0]["tokens"] == ["a"]


def test_panx_dropbox_plain_tar_layout(tmp_path):
    # xtreme #101's panx_dataset.tar, saved under the AmazonPhotos.zip name: a plain tar of <lang>.tar.gz files
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for name, data in {"panx_dataset/en.tar.gz": panx_inner(), "panx_dataset/ten.tar.gz": b"x"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    archive = tmp_path / "AmazonPhotos.zip"
    archive.write_bytes(raw.getvalue())
    assert list(get_task("panx").read({"panx": archive}, "en", "test")) == PANX_EXPECTED


def test_panx_malformed_line_names_nested_member_and_line(tmp_path):
    archive = make_zip(tmp_path / "AmazonPhotos.zip",
                       {"panx_dataset/en.tar.gz": panx_inner("en:a\tO\n\nen:b\tO\nen:c B-PER\n")})
    with pytest.raises(RawFormatError) as e:
        list(get_task("panx").read({"panx": archive}, "en", "test"))
    assert str(e.value) == f"{archive}:en.tar.gz!test:4: expected 'token<TAB>tag', found 1 fields"


def test_panx_token_without_prefix_names_location(tmp_path):
    archive = make_zip(tmp_path / "AmazonPhotos.zip", {"panx_dataset/en.tar.gz": panx_inner("en:a\tO\nb\tO\n")})
    with pytest.raises(RawFormatError, match=rf"^{archive}:en.tar.gz!test:2: expected a 'lang:token' token"):
        list(get_task("panx").read({"panx": archive}, "en", "test"))


def test_panx_missing_language_archive(tmp_path):
    archive = make_zip(tmp_path / "AmazonPhotos.zip", {"panx_dataset/en.tar.gz": panx_inner()})
    with pytest.raises(RawFormatError, match="'de.tar.gz'"):
        list(get_task("panx").read({"panx": archive}, "de", "test"))


# ----------------------------------------------------------------------------------- SQuAD ---


def test_squad_and_xquad_read_their_own_source(tmp_path):
    data = {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "In 1999 it rained.", "qas": [
        {"id": "q1", "question": "When?", "answers": [{"text": "1999", "answer_start": 3}]}]}]}]}
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    assert get_task("squad").sources_for("en", "dev") == (SOURCES["squad_v1_dev"],)
    assert get_task("xquad").sources_for("de", "test") == (SOURCES["xquad_de"],)
    for task, key, lang, split in (("squad", "squad_v1_dev", "en", "dev"), ("xquad", "xquad_de", "de", "test")):
        records = list(get_task(task).read({key: path}, lang, split))
        assert records == [{"id": "q1", "title": "t", "context": "In 1999 it rained.", "question": "When?",
                            "answers": [{"text": "1999", "answer_start": 3}]}]


# --------------------------------------------------------------------------------- Tatoeba ---


def tatoeba_files(tmp_path, deu, eng):
    """The two plain LASER files of German, keyed by source name as the pipeline passes them."""
    paths = {"tatoeba_deu": tmp_path / "tatoeba.deu-eng.deu", "tatoeba_deu_eng": tmp_path / "tatoeba.deu-eng.eng"}
    paths["tatoeba_deu"].write_bytes(deu.encode())
    paths["tatoeba_deu_eng"].write_bytes(eng.encode())
    return paths


@pytest.mark.parametrize("deu, eng", [("Hallo.\nWelt 2\n", "Hello.\nWorld 2\n"),
                                      ("Hallo.\nWelt 2", "Hello.\nWorld 2\n"),
                                      ("Hallo.\r\nWelt 2\r\n", "Hello.\nWorld 2")])
def test_tatoeba_line_alignment_and_trailing_newline(tmp_path, deu, eng):
    records = list(get_task("tatoeba").read(tatoeba_files(tmp_path, deu, eng), "de", "test"))
    assert records == [
        {"id": "eng-0", "side": "tgt", "text": "Hello."},
        {"id": "eng-1", "side": "tgt", "text": "World 2"},
        {"id": "deu-0", "side": "src", "text": "Hallo.", "gold": "eng-0"},
        {"id": "deu-1", "side": "src", "text": "Welt 2", "gold": "eng-1"},
    ]


@pytest.mark.parametrize("deu, eng, longer, line", [("a\nb\nc\n", "a\nb\n", "tatoeba_deu", 3),
                                                    ("a\n", "a\nb\n", "tatoeba_deu_eng", 2)])
def test_tatoeba_mismatched_line_counts(tmp_path, deu, eng, longer, line):
    paths = tatoeba_files(tmp_path, deu, eng)
    with pytest.raises(RawFormatError) as e:
        list(get_task("tatoeba").read(paths, "de", "test"))
    message = str(e.value)
    assert message.startswith(f"{paths[longer]}:{line}: ")  # the first line without a counterpart
    assert str(paths["tatoeba_deu"]) in message and str(paths["tatoeba_deu_eng"]) in message
    assert f"{deu.count(chr(10))} deu lines but {eng.count(chr(10))} eng lines" in message


def test_tatoeba_not_utf8_names_file_and_line(tmp_path):
    paths = tatoeba_files(tmp_path, "a\nb\n", "a\nb\n")
    paths["tatoeba_deu_eng"].write_bytes(b"a\n\xff\n")
    with pytest.raises(RawFormatError, match="^" + re.escape(f"{paths['tatoeba_deu_eng']}:2: not UTF-8")):
        list(get_task("tatoeba").read(paths, "de", "test"))


def test_tatoeba_language_codes_cover_task_languages():
    from xstilts.tasks.tatoeba import LASER_CODES

    assert set(get_task("tatoeba").languages) == set(LASER_CODES)
    assert len(set(LASER_CODES.values())) == len(LASER_CODES)


def test_tatoeba_sources_are_pinned_and_each_language_needs_its_two_files():
    from xstilts.tasks.tatoeba import LASER_CODES

    task = get_task("tatoeba")
    assert len(task.raw) == 2 * len(LASER_CODES) == len({s.name for s in task.raw})
    base = "https://github.com/facebookresearch/LASER/raw/main/data/tatoeba/v1/"
    for source in task.raw:
        assert re.fullmatch(r"[0-9a-f]{64}", source.sha256 or ""), source.name
        assert source.url == base + source.filename and SOURCES[source.name] == source
    assert len({s.sha256 for s in task.raw}) == len(task.raw)  # no hash copied onto another file
    for lang, code in LASER_CODES.items():
        sources = task.sources_for(lang, "test")
        assert [(s.name, s.filename) for s in sources] == [
            (f"tatoeba_{code}", f"tatoeba.{code}-eng.{code}"), (f"tatoeba_{code}_eng", f"tatoeba.{code}-eng.eng")]
    # the pins are the LASER files' own hashes (as stated by the Hugging Face xtreme loader's checksums)
    assert SOURCES["tatoeba_deu"].sha256 == "edfa6f75a42554df388f45891735d5e4214158a99def4b73b5908af4a3054551"
    assert SOURCES["tatoeba_hun_eng"].sha256 == "5323266e91ddee67ed1ae00d6bbac0cdf3d37749d1b2da3459bf0d424bc71383"


def test_registry_shape():
    assert {"xnli", "panx", "xquad", "tatoeba", "mnli", "squad"} <= set(TASKS)
    for task in TASKS.values():
        if task.finetuned:
            train = get_task(task.train_task)
            assert "train" in train.splits and "en" in train.languages
    assert get_task("xnli").languages[0] == "ar" and len(get_task("xnli").languages) == 15
    assert len(get_task("panx").languages) == 40 and len(get_task("tatoeba").languages) == 36
    with pytest.raises(KeyError, match="unknown task 'nope'; known tasks: "):
        get_task("nope")
