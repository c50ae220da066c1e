"""Tests for the native (existing non-English) training data of the intermediate tasks: XNLI-MT's translations of
MNLI and XTREME's translate-train SQuAD. The registry (languages, sources, provenance, the checks on Task), the
readers on files in the real layouts (XNLI-MT quotes and failed translations, translated SQuAD answers whose
offsets miss), errors that name file:line, and the demo mirror's translate-train files and checksums."""

import hashlib
import io
import json
import logging
import re
import zipfile

import pytest

from xstilts.demo import raw_files, write_mirror
from xstilts.download import fetch
from xstilts.families import Classification, RecordError
from xstilts.formats import RawFormatError, locate_answer
from xstilts.jsonl import read_jsonl
from xstilts.prepare import prepare
from xstilts.tasks import SOURCES, TASKS, Task, get_task, intermediate_tasks
from archives import make_zip

SIZES = {"mnli": 230, "xnli": 3, "panx_train": 3, "panx_eval": 3, "squad": 90, "xquad": 3, "tatoeba": 3}
XNLI_MT_HEADER = "premise\thypo\tlabel\n"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    write_mirror(root, raw_files(sizes=SIZES))
    return root


def raw_for(mirror, task, lang, split="train"):
    return {s.name: mirror / s.name / s.filename for s in get_task(task).sources_for(lang, split)}


def read(task, paths, lang, split="train"):
    records = list(get_task(task).read(paths, lang, split))
    for number, record in enumerate(records, start=1):
        get_task(task).family.check_record(record, f"record {number}")
    assert len({r["id"] for r in records}) == len(records), "ids are unique"
    return records


def xnli_mt(tmp_path, members):
    """XNLI-MT-1.0.zip with `members` ({lang: rows after the header}) at their real paths."""
    return make_zip(tmp_path / "XNLI-MT-1.0.zip", {
        f"XNLI-MT-1.0/multinli/multinli.train.{lang}.tsv": XNLI_MT_HEADER + text for lang, text in members.items()})


def squad_file(path, paragraphs):
    """A translate-train file: SQuAD v1.1 JSON, `paragraphs` as (context, [(id, answer text, answer_start)])."""
    paragraphs = [{"context": context, "qas": [
        {"id": qid, "question": "Wann?", "answers": [{"text": text, "answer_start": start}]}
        for qid, text, start in qas]} for context, qas in paragraphs]
    data = {"version": "1.1", "data": [{"title": "Translated", "paragraphs": paragraphs}]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------- registry ---


def test_mnli_offers_the_fourteen_xnli_mt_languages():
    mnli = get_task("mnli")
    assert mnli.languages[0] == "en"
    assert set(mnli.native_languages) == set(get_task("xnli").languages) - {"en"}
    assert len(mnli.native_languages) == 14 and mnli.splits == ("train",)
    assert "XNLI-MT" in mnli.translate_train and "machine-translated by the XNLI authors" in mnli.translate_train
    for lang in mnli.languages:  # one archive holds every language
        assert mnli.sources_for(lang, "train") == (SOURCES["xnli_mt"],)


def test_squad_offers_xtreme_translate_train_for_the_xquad_languages():
    squad = get_task("squad")
    assert squad.languages[0] == "en"
    assert set(squad.native_languages) == set(get_task("xquad").languages) - {"en"}
    assert "XTREME translate-train" in squad.translate_train
    bucket = "https://storage.googleapis.com/xtreme_translations/SQuAD/translate-train/"
    digests = set()
    for lang in squad.native_languages:
        (source,) = squad.sources_for(lang, "train")
        assert source == SOURCES[f"squad_v1_translate_train_{lang}"]
        assert source.filename == f"squad.translate.train.en-{lang}.json"
        assert source.url == bucket + source.filename
        assert re.fullmatch(r"[0-9a-f]{64}", source.sha256)
        digests.add(source.sha256)
    assert len(digests) == len(squad.native_languages)  # no hash copied onto another file
    # pinned as TensorFlow Datasets publishes them (url_checksums/xquad.txt)
    assert SOURCES["squad_v1_translate_train_de"].sha256 == (
        "3c125cb2a31e8ad167c4590ece8fdfd16018a5bbf9475dbfac034c1816a4ab02")
    assert SOURCES["squad_v1_translate_train_zh"].sha256 == (
        "411e4023e4f3627ccb4873edfb77b36e97470b4226a076e6a632544c92353d24")
    # English keeps its own train and dev files
    assert squad.sources_for("en", "train") == (SOURCES["squad_v1_train"],)
    assert squad.sources_for("en", "dev") == (SOURCES["squad_v1_dev"],)


def test_translated_squad_has_no_dev_split():
    with pytest.raises(ValueError, match=r"^squad de: XTREME's translations of SQuAD have a train split only, "
                                         r"not 'dev'$"):
        get_task("squad").sources_for("de", "dev")


def test_registry_says_which_intermediate_tasks_have_native_data():
    # the supervised intermediate tasks: of these only MNLI and SQuAD have existing non-English training data
    supervised = ("anli", "ccg", "commonsenseqa", "cosmosqa", "hellaswag", "mnli", "qqp", "snli", "squad", "squad_v2",
                  "sst2")
    assert {name for name in supervised if get_task(name).native_languages} == {"mnli", "squad"}
    for name in intermediate_tasks():
        task = get_task(name)
        assert task.languages[0] == "en"
        assert bool(task.translate_train) == bool(task.native_languages), name
    assert get_task("qqp").native_languages == () and get_task("qqp").translate_train == ""
    # target tasks' languages are evaluation languages, never native training data
    assert all(task.native_languages == () for task in TASKS.values() if task.is_target)


def fake_task(**changes):
    fields = dict(name="fake", family=Classification(labels=("0", "1")), languages=("en",), splits=("train",),
                  raw=(), read=lambda paths, lang, split: iter(()), metric="accuracy")
    return Task(**{**fields, **changes})


@pytest.mark.parametrize("changes, message", [
    ({"languages": ("en", "de")}, "task fake: non-English training languages (de) need translate_train"),
    ({"translate_train": "someone's MT"}, "task fake: non-English training languages (none) need translate_train"),
    ({"languages": ("de", "en"), "translate_train": "MT"},
     "task fake: an intermediate task's languages start with its English training data, 'en'; found de, en"),
    ({"group": "classification", "train_task": "mnli", "translate_train": "MT"},
     "task fake: translate_train describes intermediate training data; a target task trains on mnli"),
])
def test_task_checks_native_languages_and_their_provenance(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        fake_task(**changes)


def test_task_accepts_native_languages_with_provenance():
    task = fake_task(languages=("en", "de", "ru"), translate_train="demo MT")
    assert task.native_languages == ("de", "ru")
    target = fake_task(languages=("de", "en"), group="classification", train_task="mnli")
    assert target.native_languages == ()


# -------------------------------------------------------------------------------- MNLI (XNLI-MT) ---


def test_mnli_translation_is_line_parallel_with_literal_quotes(tmp_path, caplog):
    archive = xnli_mt(tmp_path, {
        "en": "you know during the season\tYou lose the things .\tentailment\n"
              "One of our number will carry out your instructions .\tA member of my team will execute them .\t"
              "contradictory\n"
              "How do you know ?\tThis information belongs to them .\tneutral\n",
        "de": '"Du weißt , während der Saison\tMan verliert die Dinge .\tentailment\n'
              "Einer von uns wird Ihre Anweisungen ausführen .\t\tcontradictory\n"
              'Woher weißt du das ?\tDiese "Information" gehört ihnen .\tneutral\n',
    })
    english = read("mnli", {"xnli_mt": archive}, "en")
    with caplog.at_level(logging.WARNING, logger="xstilts.tasks.mnli"):
        german = read("mnli", {"xnli_mt": archive}, "de")
    assert german == [
        {"id": "mnli-2", "text_a": '"Du weißt , während der Saison', "text_b": "Man verliert die Dinge .",
         "label": "entailment"},
        {"id": "mnli-4", "text_a": "Woher weißt du das ?", "text_b": 'Diese "Information" gehört ihnen .',
         "label": "neutral"},
    ]
    # the same line is the same pair in every language: ids and labels agree with the English file
    by_id = {r["id"]: r for r in english}
    assert all(by_id[r["id"]]["label"] == r["label"] for r in german)
    assert [r["label"] for r in english] == ["entailment", "contradiction", "neutral"]
    assert "mnli de/train: skipped 1 pairs with an empty premise or hypothesis" in caplog.text


def test_mnli_empty_english_pair_stays_an_error(tmp_path):
    """Only a translation may fail; an empty pair in the English original is refused, naming the record."""
    archive = xnli_mt(tmp_path, {"en": "a\tb\tneutral\nc\t\tentailment\n", "de": "a\tb\tneutral\nc\t\tentailment\n"})
    with pytest.raises(RecordError, match=re.escape("mnli en/train record 2 (id 'mnli-3'): sentence-pair record")):
        prepare("mnli", "en", "train", {"xnli_mt": archive}, tmp_path / "en.jsonl")
    assert prepare("mnli", "de", "train", {"xnli_mt": archive}, tmp_path / "de.jsonl") == 1


def test_mnli_translation_errors_name_member_and_line(tmp_path):
    archive = xnli_mt(tmp_path, {"en": "a\tb\tneutral\n", "ru": "а\tб\tneutral\nв\tг\tmaybe\n"})
    with pytest.raises(RawFormatError) as e:
        list(get_task("mnli").read({"xnli_mt": archive}, "ru", "train"))
    assert str(e.value) == f"{archive}:multinli/multinli.train.ru.tsv:3: unknown NLI label 'maybe'"
    archive = xnli_mt(tmp_path, {"ru": "а\tб\tneutral\nтолько одно поле\n"})
    with pytest.raises(RawFormatError, match=re.escape(f"{archive}:multinli/multinli.train.ru.tsv:3: expected 3")):
        list(get_task("mnli").read({"xnli_mt": archive}, "ru", "train"))


def test_mnli_missing_language_member_is_named(tmp_path):
    archive = xnli_mt(tmp_path, {"en": "a\tb\tneutral\n"})
    with pytest.raises(RawFormatError, match="expected one entry ending in 'multinli/multinli.train.sw.tsv', "
                                             "found no entry"):
        list(get_task("mnli").read({"xnli_mt": archive}, "sw", "train"))


# ----------------------------------------------------------------------- SQuAD translate-train ---


@pytest.mark.parametrize("context, answer, expected", [
    ("Im Jahr 1999 regnete es.", {"text": "1999", "answer_start": 8}, {"text": "1999", "answer_start": 8}),
    ("Im Jahr 1999 regnete es.", {"text": "1999", "answer_start": 3}, {"text": "1999", "answer_start": 8}),
    ("Im Jahr 1999 regnete es.", {"text": " 1999 ", "answer_start": 40}, {"text": "1999", "answer_start": 8}),
    ("Im Jahr 1999 regnete es.", {"text": "1999", "answer_start": -1}, {"text": "1999", "answer_start": 8}),
    ("Im Jahr 1999 regnete es.", {"text": "1999", "answer_start": "8"}, {"text": "1999", "answer_start": 8}),
    ("Im Jahr 1999 regnete es.", {"text": "2001", "answer_start": 8}, None),
    ("1999 und wieder 1999.", {"text": "1999", "answer_start": 5}, None),  # which one? no way to tell
    ("aaa", {"text": "aa", "answer_start": 2}, None),  # overlapping occurrences count as several
    ("Im Jahr 1999 regnete es.", {"text": "  ", "answer_start": 0}, None),
    ("Im Jahr 1999 regnete es.", {"text": "", "answer_start": 0}, None),
])
def test_locate_answer(context, answer, expected):
    located = locate_answer(context, answer)
    assert located == expected
    if expected is not None:
        assert context[located["answer_start"]:][:len(located["text"])] == located["text"]


def test_translated_squad_moves_or_drops_answers_that_miss_and_logs_counts(tmp_path, caplog):
    path = squad_file(tmp_path / "squad.translate.train.en-de.json", [
        ("Im Jahr 1999 regnete es.", [("q1", "1999", 8)]),                  # right
        ("Der Fluss ist 300 km lang.", [("q2", "300 km", 0)]),              # offset misses, text occurs once
        ("Er kam 1880 und ging 1880.", [("q3", "1880", 3)]),                # misses, text occurs twice
        ("Sie heißt Anna.", [("q4", "Anne", 10)]),                          # translated differently
        ("Berlin liegt an der Spree.", [("q5", "Spree", 20), ("q5b", "Berlin", 0)]),
    ])
    with caplog.at_level(logging.INFO, logger="xstilts.tasks.squad"):
        records = read("squad", {"squad_v1_translate_train_de": path}, "de")
    assert [r["id"] for r in records] == ["q1", "q2", "q5", "q5b"]
    assert records[0]["answers"] == [{"text": "1999", "answer_start": 8}]
    assert records[1]["answers"] == [{"text": "300 km", "answer_start": 14}]
    assert records[0]["title"] == "Translated" and records[0]["question"] == "Wann?"
    message = caplog.records[-1]
    assert message.levelno == logging.WARNING
    assert message.getMessage() == (
        "squad de/train: 6 questions; 1 answers moved to their text's only occurrence in the context (answer_start "
        "did not point at it); 2 questions dropped (answer text not in the context, or in it more than once), "
        "e.g. ids q3, q4")


def test_translated_squad_without_problems_logs_at_info(tmp_path, caplog):
    path = squad_file(tmp_path / "t.json", [("Im Jahr 1999 regnete es.", [("q1", "1999", 8)])])
    with caplog.at_level(logging.INFO, logger="xstilts.tasks.squad"):
        assert len(read("squad", {"squad_v1_translate_train_ru": path}, "ru")) == 1
    assert caplog.records[-1].levelno == logging.INFO
    assert "0 answers moved" in caplog.text and "0 questions dropped" in caplog.text


def test_translated_squad_malformed_files_name_file_and_question(tmp_path):
    path = squad_file(tmp_path / "t.json", [("Im Jahr 1999.", [("q1", None, 8)])])
    with pytest.raises(RawFormatError, match=re.escape(f"{path}: question id 'q1': answer text None is not a string")):
        list(get_task("squad").read({"squad_v1_translate_train_de": path}, "de", "train"))
    path.write_text('{"data": [')
    with pytest.raises(RawFormatError, match=re.escape(f"{path}: not a SQuAD-format JSON file")):
        list(get_task("squad").read({"squad_v1_translate_train_de": path}, "de", "train"))


def test_english_squad_is_not_realigned(tmp_path):
    """A wrong offset in the official English file is corruption, not a translation quirk: prepare refuses it."""
    path = squad_file(tmp_path / "train-v1.1.json", [("In 1999 it rained.", [("q1", "1999", 0)])])
    with pytest.raises(RecordError, match="answer '1999' is not at character 0 of the context"):
        prepare("squad", "en", "train", {"squad_v1_train": path}, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


# ------------------------------------------------------------------------------ demo mirror ---


def test_demo_mirror_has_the_translate_train_files_and_verified_checksums(mirror, tmp_path):
    files = raw_files(sizes=SIZES)
    assert raw_files(sizes=SIZES) == files  # deterministic, checksums included
    members = zipfile.ZipFile(io.BytesIO(files["xnli_mt/XNLI-MT-1.0.zip"])).namelist()
    assert members == [f"XNLI-MT-1.0/multinli/multinli.train.{lang}.tsv" for lang in ("en", "de", "ru")]
    native = {f"squad_v1_translate_train_{lang}/squad.translate.train.en-{lang}.json" for lang in ("de", "ru")}
    assert native <= set(files)
    sums = dict(line.split("  ")[::-1] for line in (mirror / "SHA256SUMS").read_text().splitlines())
    for name in [*native, "xnli_mt/XNLI-MT-1.0.zip"]:
        assert sums[name] == hashlib.sha256((mirror / name).read_bytes()).hexdigest()
        source = SOURCES[name.split("/")[0]]
        assert fetch(source, tmp_path / name, mirror) == sums[name]  # the pipeline's download accepts it


def test_demo_native_mnli_translates_the_english_file_line_by_line(mirror):
    english = {r["id"]: r for r in read("mnli", raw_for(mirror, "mnli", "en"), "en")}
    for lang in ("de", "ru"):
        records = read("mnli", raw_for(mirror, "mnli", lang), lang)
        # every 100th line is a failed translation (skipped); every other line is its English pair, translated
        assert len(records) == SIZES["mnli"] - len([i for i in range(1, SIZES["mnli"] + 1) if i % 100 == 99])
        for record in records:
            source = english[record["id"]]
            assert record["label"] == source["label"]
            digit = [w for w in source["text_b"].split() if w.isdigit()]
            assert [w for w in record["text_b"].split() if w.isdigit()] == digit  # the learnable rule holds
            assert record["text_a"] != source["text_a"]
        assert any(r["text_a"].startswith('"') for r in records)  # a stray quote, kept as text


def test_demo_native_squad_keeps_ids_and_answers(mirror, tmp_path):
    english = {r["id"]: r for r in read("squad", raw_for(mirror, "squad", "en"), "en")}
    for lang in ("de", "ru"):
        out = tmp_path / lang / "train.jsonl"
        count = prepare("squad", lang, "train", raw_for(mirror, "squad", lang), out)
        records = list(read_jsonl(out))
        # every 40th answer gained a full stop the context lacks (dropped); every 10th offset missed (moved)
        assert count == len(records) == SIZES["squad"] - len([i for i in range(SIZES["squad"]) if i % 40 == 17])
        for record in records:
            assert record["answers"][0]["text"] == english[record["id"]]["answers"][0]["text"]
            assert record["context"] != english[record["id"]]["context"]
        (moved,) = [r for r in records if r["id"] == "squad-train-00003"]  # its offset missed by two characters
        year = moved["answers"][0]["text"]
        assert moved["answers"][0]["answer_start"] == moved["context"].index(year)
