"""Tests for the PAWS-X, UD-POS, MLQA and TyDiQA-GoldP readers on tiny archives built in the exact layouts of
the real downloads (x-final.tar.gz, ud-treebanks-v2.5.tgz, MLQA_V1.zip, tydiqa-goldp-v1.1-{train.json,dev.tgz}),
reproducing XTREME's preprocessing: PAW-X zero-shot (translated_train never read) and header-only skip; UD
treebank merge in sorted file order, multiword tokens fused with their span head's UPOS, mostly-'_' sentences
dropped, U+200C and spaces removed, missing splits; MLQA same-language files only; TyDiQA language by id
prefix and dev -> test. Every task also goes through xstilts.prepare (family validation)."""

import re
import json
import logging
import tarfile
import zipfile

import pytest

from xstilts.formats import RawFormatError
from xstilts.jsonl import read_jsonl
from xstilts.prepare import prepare
from xstilts.tasks import SOURCES, get_task
from archives import make_targz, make_zip


def read(task, paths, lang, split):
    return list(get_task(task).read(paths, lang, split))


def test_registry_facts():
    expected = {
        "pawsx": ("de,en,es,fr,ja,ko,zh", "classification", "accuracy", "pawsx", "PAWS-X"),
        "udpos": ("af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,mr,nl,pt,ru,ta,te,th,tl,tr,ur,vi,yo,zh",
                  "tagging", "tagging_f1", "udpos", "POS"),
        "mlqa": ("en,es,de,ar,hi,vi,zh", "qa", "mlqa_em_f1", "squad", "MLQA"),
        "tydiqa": ("en,ar,bn,fi,id,ko,ru,sw,te", "qa", "squad_em_f1", "tydiqa", "TyDiQA"),
    }
    for name, (langs, group, metric, train_task, display) in expected.items():
        task = get_task(name)
        assert (",".join(task.languages), task.group, task.metric, task.train_task, task.display) == (
            langs, group, metric, train_task, display)
        assert all(re.fullmatch(r"[0-9a-f]{64}", s.sha256) for s in task.raw)
    assert get_task("udpos").family.labels == tuple(
        "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split())
    assert get_task("pawsx").family.labels == ("0", "1")
    assert SOURCES["pawsx"].url == "https://storage.googleapis.com/paws/pawsx/x-final.tar.gz"
    assert SOURCES["mlqa"].url == "https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip"
    assert get_task("tydiqa").sources_for("en", "train") == (SOURCES["tydiqa_train"],)
    assert get_task("tydiqa").sources_for("sw", "test") == (SOURCES["tydiqa_dev"],)


# ---------------------------------------------------------------------------------- PAWS-X ---

PAWS_HEADER = "id\tsentence1\tsentence2\tlabel\n"


def pawsx_archive(tmp_path, **overrides):
    entries = {
        "x-final/en/train.tsv": PAWS_HEADER + "1\tA cat sat .\tThe cat sat .\t1\n2\tB ran .\tRan B .\t0\n",
        "x-final/en/dev_2k.tsv": PAWS_HEADER + "7\tdev a\tdev b\t0\n",
        "x-final/en/test_2k.tsv": PAWS_HEADER + "11\tFirst a\tFirst b\t1\n12\t  Padded  \tsecond\t0\n",
        "x-final/de/dev_2k.tsv": PAWS_HEADER + "684\tDie Straße verläuft weiter.\tNS\t0\n",
        "x-final/de/test_2k.tsv": PAWS_HEADER + "5\tEin Satz .\tZwei Satz .\t1\r\n6\tDrei\tVier\t0\r\n",
        "x-final/de/translated_train.tsv": PAWS_HEADER + "1\tMASCHINE\tÜBERSETZT\t1\n",
    }
    entries.update(overrides)
    return make_targz(tmp_path / "x-final.tar.gz", entries)


def test_pawsx_header_only_skipped_and_fields_stripped(tmp_path):
    archive = pawsx_archive(tmp_path)
    assert read("pawsx", {"pawsx": archive}, "en", "test") == [
        {"id": "en-test-2", "text_a": "First a", "text_b": "First b", "label": "1"},
        {"id": "en-test-3", "text_a": "Padded", "text_b": "second", "label": "0"},
    ]
    assert [(r["text_a"], r["label"]) for r in read("pawsx", {"pawsx": archive}, "de", "test")] == [
        ("Ein Satz .", "1"), ("Drei", "0")]
    # the "NS" placeholder of translated dev/test rows is kept, as XTREME keeps it (paws #15)
    assert read("pawsx", {"pawsx": archive}, "de", "dev")[0]["text_b"] == "NS"


def test_pawsx_zero_shot_translated_train_never_read(tmp_path, monkeypatch):
    archive = pawsx_archive(tmp_path)
    extracted = []
    original = tarfile.TarFile.extractfile

    def spy(self, member):
        extracted.append(member.name if hasattr(member, "name") else member)
        return original(self, member)

    monkeypatch.setattr(tarfile.TarFile, "extractfile", spy)
    train = read("pawsx", {"pawsx": archive}, "en", "train")
    assert [r["text_a"] for r in train] == ["A cat sat .", "B ran ."]
    for lang in ("de", "en"):
        for split in ("dev", "test"):
            read("pawsx", {"pawsx": archive}, lang, split)
    assert extracted and not any("translated_train" in name for name in extracted)
    with pytest.raises(ValueError, match="English only"):
        read("pawsx", {"pawsx": archive}, "de", "train")


@pytest.mark.parametrize("row, message", [
    ("12\tonly two", "expected 4 tab-separated fields, found 2"),
    ("12\ta\tb\tyes", "label 'yes' is not 0 or 1"),
    ("12\ta\t\t1", "empty sentence2"),
])
def test_pawsx_malformed_row_names_member_and_line(tmp_path, row, message):
    archive = pawsx_archive(tmp_path, **{"x-final/en/test_2k.tsv": PAWS_HEADER + "11\ta\tb\t1\n" + row + "\n"})
    with pytest.raises(RawFormatError) as e:
        read("pawsx", {"pawsx": archive}, "en", "test")
    assert str(e.value).startswith(f"{archive}:x-final/en/test_2k.tsv:3: {message}")


def test_pawsx_prepare(tmp_path):
    archive = pawsx_archive(tmp_path)
    assert prepare("pawsx", "en", "train", {"pawsx": archive}, tmp_path / "train.jsonl") == 2
    assert prepare("pawsx", "de", "test", {"pawsx": archive}, tmp_path / "test.jsonl") == 2


# ---------------------------------------------------------------------------------- UD-POS ---

TOP = "ud-treebanks-v2.5"


def conllu(*sentences):
    """CoNLL-U text; each sentence is a list of rows, a row a tuple of (id, form, upos, head[, deps])."""
    out = []
    for rows in sentences:
        out.append("# sent_id = x")
        for row in rows:
            ident, form, upos, head, *deps = row
            out.append("\t".join([ident, form, "_", upos, "_", "_", head, "_" if head == "_" else "dep",
                                  deps[0] if deps else "_", "_"]))
        out.append("")
    return "\n".join(out) + "\n"


def mwt(ident, form):
    return (ident, form, "_", "_")


S_DEL = [("1", "Vino", "VERB", "0"), mwt("2-3", "del"), ("2", "de", "ADP", "4"), ("3", "el", "DET", "4"),
         ("4", "norte", "NOUN", "1"), ("5", ".", "PUNCT", "1")]
S_DAMELO = [mwt("1-3", "Dámelo"), ("1", "Da", "VERB", "0"), ("2", "me", "PRON", "1"), ("3", "lo", "PRON", "1"),
            ("4", "!", "PUNCT", "1")]
S_CONMIGO = [("1", "Ven", "VERB", "0"), mwt("2-3", "conmigo"), ("2", "con", "ADP", "3"), ("3", "migo", "PRON", "1"),
             ("3.1", "x", "_", "_")]
S_ZWNJ = [("1", "می\u200cخواهم", "VERB", "0"), ("2", "tổng thống", "NOUN", "1"), ("3", " ", "PUNCT", "1")]
S_MOSTLY_EMPTY = [("1", "_", "NOUN", "0"), ("2", "_", "VERB", "1"), ("3", ".", "PUNCT", "1")]
S_TWO_ONE_EMPTY = [("1", "_", "NOUN", "0"), ("2", ".", "PUNCT", "1")]
S_ONE_EMPTY = [("1", "_", "SYM", "0"), ("2", "a", "NOUN", "1"), ("3", "b", "NOUN", "1")]
S_GSD = [("1", "Hola", "INTJ", "0")]
# a tie between two NOUN subtokens: NOUN is not in the Spanish precedence list, so conllu_to_conll.py dies
S_CRASH = [("1", "Ve", "VERB", "0"), mwt("2-3", "xy"), ("2", "x", "NOUN", "1"), ("3", "y", "NOUN", "1")]


def ud_archive(tmp_path, extra=None):
    entries = {
        # GSD before AnCora in the archive: the merge must still follow sorted file names
        f"{TOP}/UD_Spanish-GSD/es_gsd-ud-test.conllu": conllu(S_GSD),
        f"{TOP}/UD_Spanish-GSD/es_gsd-ud-train.conllu": conllu([("1", "Entrenar", "VERB", "0")]),
        f"{TOP}/UD_Spanish-GSD/es_gsd-ud-test.txt": "Hola\n",
        f"{TOP}/UD_Spanish-GSD/README.md": "# GSD\n",
        f"{TOP}/UD_Spanish-AnCora/es_ancora-ud-test.conllu": conllu(
            S_DEL, S_DAMELO, S_CONMIGO, S_ZWNJ, S_MOSTLY_EMPTY, S_TWO_ONE_EMPTY, S_ONE_EMPTY),
        f"{TOP}/UD_Spanish-PUD/es_pud-ud-test.conllu": conllu(S_GSD, S_CRASH),
        f"{TOP}/UD_English-EWT/en_ewt-ud-test.conllu": conllu([("1", "Hi", "INTJ", "0")]),
        f"{TOP}/UD_Thai-PUD/th_pud-ud-test.conllu": conllu([("1", "สวัสดี", "INTJ", "0")]),
    }
    entries.update(extra or {})
    return make_targz(tmp_path / "ud-treebanks-v2.5.tgz", entries)


def test_udpos_merge_order_fused_forms_and_filters(tmp_path, caplog):
    archive = ud_archive(tmp_path)
    with caplog.at_level(logging.WARNING):
        records = read("udpos", {"ud_treebanks_v2_5": archive}, "es", "test")
    assert [(r["tokens"], r["tags"]) for r in records] == [
        # es_ancora first (sorted file names), whatever the archive order
        (["Vino", "del", "norte", "."], ["VERB", "ADP", "NOUN", "PUNCT"]),  # tie de/el -> ADP before DET (es list)
        (["Dámelo", "!"], ["VERB", "PUNCT"]),  # one highest subtoken: Da
        (["Ven", "conmigo"], ["VERB", "PRON"]),  # the span head is the second subtoken; empty node 3.1 ignored
        (["میخواهم", "tổngthống"], ["VERB", "NOUN"]),  # U+200C and spaces removed; the blank token removed
        # "_ _ ." and "_ ." are mostly '_' and dropped; one '_' in three words is kept
        (["_", "a", "b"], ["SYM", "NOUN", "NOUN"]),
        (["Hola"], ["INTJ"]),  # es_gsd
        # es_pud is skipped whole: XTREME's conversion crashes on its tie between two NOUNs
    ]
    assert [r["id"] for r in records] == ["es_ancora-ud-test-1", "es_ancora-ud-test-9", "es_ancora-ud-test-16",
                                          "es_ancora-ud-test-23", "es_ancora-ud-test-37", "es_gsd-ud-test-1"]
    assert "es_pud-ud-test.conllu" in caplog.text and "'NOUN' is not in the precedence list" in caplog.text
    assert [r["tokens"] for r in read("udpos", {"ud_treebanks_v2_5": archive}, "es", "train")] == [["Entrenar"]]


def test_udpos_enhanced_heads_count_as_ancestors(tmp_path):
    # German "zum" (zu + dem, both attached to the noun): a tie in the basic tree gives ADP (before DET in the
    # default list), but an extra enhanced head of "zu" makes "dem" the only highest subtoken, as in lib/conll.py
    def zum(zu_deps):
        return [("1", "Geh", "VERB", "0"), mwt("2-3", "zum"), ("2", "zu", "ADP", "4", zu_deps),
                ("3", "dem", "DET", "4"), ("4", "Haus", "NOUN", "1"), ("5", ".", "PUNCT", "1")]

    archive = ud_archive(tmp_path, {f"{TOP}/UD_German-GSD/de_gsd-ud-dev.conllu": conllu(zum("_"), zum("4:case|5:x"))})
    records = read("udpos", {"ud_treebanks_v2_5": archive}, "de", "dev")
    assert [r["tags"] for r in records] == [["VERB", "ADP", "NOUN", "PUNCT"], ["VERB", "DET", "NOUN", "PUNCT"]]


def test_udpos_language_is_the_file_name_prefix(tmp_path):
    archive = ud_archive(tmp_path, {
        f"{TOP}/UD_English-GUM/en_gum-ud-test.conllu": conllu([("1", "GUM", "PROPN", "0")]),
        f"{TOP}/UD_Cantonese-HK/yue_hk-ud-test.conllu": conllu([("1", "x", "X", "0")]),
    })
    assert [r["tokens"] for r in read("udpos", {"ud_treebanks_v2_5": archive}, "en", "test")] == [["Hi"], ["GUM"]]


def test_udpos_streams_the_archive(tmp_path, monkeypatch):
    archive = ud_archive(tmp_path)

    def no_index(self):
        raise AssertionError("the UD archive must be streamed, not indexed")

    monkeypatch.setattr(tarfile.TarFile, "getmembers", no_index)
    assert len(read("udpos", {"ud_treebanks_v2_5": archive}, "th", "test")) == 1


@pytest.mark.parametrize("lang, split", [("th", "train"), ("th", "dev"), ("kk", "dev")])
def test_udpos_missing_split_is_a_clear_error(tmp_path, lang, split):
    archive = ud_archive(tmp_path, {f"{TOP}/UD_Kazakh-KTB/kk_ktb-ud-test.conllu": conllu(S_GSD)})
    with pytest.raises(RawFormatError, match=f"UD v2.5 has no {split} data for {lang}"):
        read("udpos", {"ud_treebanks_v2_5": archive}, lang, split)


@pytest.mark.parametrize("text, line, message", [
    ("# a\n1\tHi\t_\tINTJ\t_\t_\t0\troot\t_\n\n", 2, "expected 10 tab-separated CoNLL-U fields, found 9"),
    ("1\tHi\t_\tINTJ\t_\t_\t0\troot\t_\t_\n3\tx\t_\tX\t_\t_\t1\tdep\t_\t_\n\n", 1, "word ids are not 1..2 in order"),
    ("1\tHi\t_\tINTJ\t_\t_\t0\troot\t_\t_\n2\tx\t_\tX\t_\t_\t7\tdep\t_\t_\n\n", 2, "head 7 is not a word"),
])
def test_udpos_malformed_conllu_names_member_and_line(tmp_path, text, line, message):
    member = f"{TOP}/UD_English-EWT/en_ewt-ud-test.conllu"
    archive = ud_archive(tmp_path, {member: text})
    with pytest.raises(RawFormatError) as e:
        read("udpos", {"ud_treebanks_v2_5": archive}, "en", "test")
    assert str(e.value).startswith(f"{archive}:{member}:{line}: {message}")


def test_udpos_prepare(tmp_path):
    archive = ud_archive(tmp_path)
    out = tmp_path / "test.jsonl"
    assert prepare("udpos", "es", "test", {"ud_treebanks_v2_5": archive}, out) == 6
    assert next(read_jsonl(out))["tokens"] == ["Vino", "del", "norte", "."]


# ------------------------------------------------------------------------------------ MLQA ---


def squad_json(*qas, title="t"):
    """A SQuAD v1.1 file with one paragraph per (id, context, question, answer text)."""
    return json.dumps({"version": "1.0", "data": [{"title": title, "paragraphs": [
        {"context": context, "qas": [{"id": qid, "question": question,
                                      "answers": [{"text": answer, "answer_start": context.index(answer)}]}]}
        for qid, context, question, answer in qas]}]}, ensure_ascii=False)


def mlqa_archive(tmp_path, **overrides):
    entries = {}
    for split in ("dev", "test"):
        for c in ("de", "en", "zh"):
            for q in ("de", "en", "zh"):
                entries[f"MLQA_V1/{split}/{split}-context-{c}-question-{q}.json"] = squad_json(
                    (f"{split}-{c}-{q}-1", f"Kontext {c} {q} 1999.", "Wann?", "1999"),
                    (f"{split}-{c}-{q}-2", "北京是中国的首都。", "首都?", "北京"))
    entries.update(overrides)
    return make_zip(tmp_path / "MLQA_V1.zip", entries)


def test_mlqa_reads_only_the_same_language_file(tmp_path, monkeypatch):
    archive = mlqa_archive(tmp_path)
    opened = []
    original = zipfile.ZipFile.read

    def spy(self, name, *args):
        opened.append(name)
        return original(self, name, *args)

    monkeypatch.setattr(zipfile.ZipFile, "read", spy)
    records = read("mlqa", {"mlqa": archive}, "de", "test")
    assert records == [
        {"id": "test-de-de-1", "title": "t", "context": "Kontext de de 1999.", "question": "Wann?",
         "answers": [{"text": "1999", "answer_start": 14}]},
        {"id": "test-de-de-2", "title": "t", "context": "北京是中国的首都。", "question": "首都?",
         "answers": [{"text": "北京", "answer_start": 0}]},
    ]
    assert opened == ["MLQA_V1/test/test-context-de-question-de.json"]
    assert [r["id"] for r in read("mlqa", {"mlqa": archive}, "zh", "dev")] == ["dev-zh-zh-1", "dev-zh-zh-2"]


def test_mlqa_missing_language_and_malformed_json(tmp_path):
    archive = mlqa_archive(tmp_path)
    with pytest.raises(RawFormatError, match="test/test-context-es-question-es.json"):
        read("mlqa", {"mlqa": archive}, "es", "test")
    bad = mlqa_archive(tmp_path, **{"MLQA_V1/test/test-context-en-question-en.json": '{"data": [{"paragraphs": ['
                                    '{"context": "c", "qas": [{"id": "q", "answers": []}]}]}]}'})
    with pytest.raises(RawFormatError) as e:
        read("mlqa", {"mlqa": bad}, "en", "test")
    assert str(e.value).startswith(f"{bad}:test/test-context-en-question-en.json: data[0].paragraphs[0].qas[0]")


def test_mlqa_prepare(tmp_path):
    archive = mlqa_archive(tmp_path)
    assert prepare("mlqa", "zh", "test", {"mlqa": archive}, tmp_path / "test.jsonl") == 2


# ---------------------------------------------------------------------------------- TyDiQA ---


def tydiqa_files(tmp_path, train_ids=("english-1-0", "arabic-2-0", "english--3-1", "finnish-4-0")):
    train = tmp_path / "tydiqa-goldp-v1.1-train.json"
    train.write_text(squad_json(*[(qid, f"Context {qid} answer.", f"Q {qid}?", "answer") for qid in train_ids]))
    dev = make_targz(tmp_path / "tydiqa-goldp-v1.1-dev.tgz", {
        f"tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{name}.json": squad_json(
            *[(f"{name}-9{i}-0", f"{name} text {i}", "?", "text") for i in range(2)])
        for name in ("english", "arabic", "swahili", "telugu")
    })
    return {"tydiqa_train": train, "tydiqa_dev": dev}


def test_tydiqa_train_is_the_english_part_by_id_prefix(tmp_path):
    paths = tydiqa_files(tmp_path)
    records = read("tydiqa", paths, "en", "train")
    assert [r["id"] for r in records] == ["english-1-0", "english--3-1"]
    assert records[0] == {"id": "english-1-0", "title": "t", "context": "Context english-1-0 answer.",
                          "question": "Q english-1-0?", "answers": [{"text": "answer", "answer_start": 20}]}
    with pytest.raises(ValueError, match="English only"):
        read("tydiqa", paths, "ar", "train")


def test_tydiqa_dev_archive_is_the_test_set(tmp_path):
    paths = tydiqa_files(tmp_path)
    assert [r["id"] for r in read("tydiqa", paths, "sw", "test")] == ["swahili-90-0", "swahili-91-0"]
    assert [r["id"] for r in read("tydiqa", paths, "en", "test")] == ["english-90-0", "english-91-0"]
    with pytest.raises(RawFormatError, match="tydiqa-goldp-dev-bengali.json"):
        read("tydiqa", paths, "bn", "test")


def test_tydiqa_unknown_language_prefix_names_file_and_question(tmp_path):
    paths = tydiqa_files(tmp_path, train_ids=("english-1-0", "klingon-2-0"))
    with pytest.raises(RawFormatError) as e:
        read("tydiqa", paths, "en", "train")
    assert str(e.value).startswith(f"{paths['tydiqa_train']}: question 2 (id 'klingon-2-0'): unknown language prefix")


def test_tydiqa_prepare(tmp_path):
    paths = tydiqa_files(tmp_path)
    assert prepare("tydiqa", "en", "train", {"tydiqa_train": paths["tydiqa_train"]}, tmp_path / "train.jsonl") == 2
    assert prepare("tydiqa", "te", "test", {"tydiqa_dev": paths["tydiqa_dev"]}, tmp_path / "test.jsonl") == 2


def test_udpos_sentence_without_final_blank_line_is_dropped_as_xtreme(tmp_path, caplog):
    member = f"{TOP}/UD_English-EWT/en_ewt-ud-test.conllu"
    lost = "1\tLost\t_\tX\t_\t_\t0\troot\t_\t_\n"
    archive = ud_archive(tmp_path, {member: conllu([("1", "Kept", "VERB", "0")]) + lost})
    with caplog.at_level(logging.WARNING):
        assert [r["tokens"] for r in read("udpos", {"ud_treebanks_v2_5": archive}, "en", "test")] == [["Kept"]]
    assert "en_ewt-ud-test.conllu:4: no blank line after the last sentence" in caplog.text
