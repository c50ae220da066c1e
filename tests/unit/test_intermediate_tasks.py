"""Tests for the English intermediate tasks beyond MNLI and SQuAD (QQP, SST-2, SNLI, ANLI, HellaSwag, Cosmos QA,
CommonsenseQA, CCG, SQuAD v2.0): readers on tiny files in the real raw formats and archive layouts, the
multiple-choice family (featurization with the tiny XLM-R tokenizer, padding, decoding), the new format helpers,
and the config checks of shared heads (ANLI+)."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake.utils import validate

from xstilts import predfiles
from xstilts.config import ConfigError, check_config
from xstilts.download import ManualDownloadRequired, fetch
from xstilts.families import Classification, MultipleChoice, RecordError, SpanQA, pad_features
from xstilts.formats import RawFormatError, archive_entries, csv_records, json_lines
from xstilts.tasks import SOURCES, get_task, intermediate_tasks
from archives import make_targz, make_zip

ROOT = Path(__file__).resolve().parents[2]
NEW_TASKS = ("qqp", "sst2", "snli", "anli", "hellaswag", "cosmosqa", "commonsenseqa", "ccg", "squad_v2")


def jsonl(rows):
    return "".join(json.dumps(r) + "\n" for r in rows)


def read(task, paths, split="train"):
    records = list(get_task(task).read(paths, "en", split))
    for number, record in enumerate(records, start=1):
        get_task(task).family.check_record(record, f"record {number}")
    assert len({r["id"] for r in records}) == len(records), "ids are unique"
    return records


# ---------------------------------------------------------------------------------- registry ---


def test_new_tasks_are_english_intermediate_tasks_with_a_training_split():
    assert set(NEW_TASKS) <= set(intermediate_tasks())
    for name in NEW_TASKS:
        task = get_task(name)
        assert task.languages == ("en",) and "train" in task.splits and not task.is_target
        # every download is pinned, except the licensed CCGbank that users put in place by hand
        unpinned = {"ccg"}
        assert all((s.sha256 is None) == (name in unpinned) for s in task.raw), name
        for split in task.splits:
            assert task.sources_for("en", split)


def test_ccg_source_is_manual_and_says_where_and_why(tmp_path):
    source = SOURCES["ccgbank"]
    assert source.url is None
    dest = tmp_path / "raw" / "ccgbank" / source.filename
    with pytest.raises(ManualDownloadRequired) as e:
        fetch(source, dest)
    message = str(e.value)
    assert str(dest.resolve()) in message and "LDC2005T13" in message and "licence" in message
    assert "ccgbank_1_1/data/AUTO" in message


# ---------------------------------------------------------------------------------------- QQP ---


QQP_HEADER = "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"


def test_qqp_reads_pairs_skips_empty_questions(tmp_path):
    archive = make_zip(tmp_path / "QQP-clean.zip", {
        "QQP/train.tsv": QQP_HEADER + '133273\t213221\t213222\tHow is the life of a math student? "Could you"\t'
                                      'Which level of prepration is enough?\t0\n'
                                      '402555\t536040\t536041\tHow do I control my horny emotions?\tHow do you '
                                      'control your horniness?\t1\n'
                                      '201841\t303951\t174364\tHow can I create an Android app?\t\t0\n',
        "QQP/dev.tsv": QQP_HEADER + "1\t2\t3\ta?\tb?\t1\n",
        "QQP/test.tsv": "id\tquestion1\tquestion2\n0\tx\ty\n",
    })
    records = read("qqp", {"glue_qqp": archive})
    assert records == [
        {"id": "qqp-133273", "text_a": 'How is the life of a math student? "Could you"',
         "text_b": "Which level of prepration is enough?", "label": "0"},
        {"id": "qqp-402555", "text_a": "How do I control my horny emotions?",
         "text_b": "How do you control your horniness?", "label": "1"},
    ]
    assert [r["id"] for r in read("qqp", {"glue_qqp": archive}, "dev")] == ["qqp-1"]


def test_qqp_bad_label_names_location(tmp_path):
    archive = make_zip(tmp_path / "QQP-clean.zip", {"QQP/train.tsv": QQP_HEADER + "1\t2\t3\ta?\tb\tc?\t0\n"})
    with pytest.raises(RawFormatError, match=r"QQP/train.tsv:2: expected 6 tab-separated fields, found 7"):
        read("qqp", {"glue_qqp": archive})
    archive = make_zip(tmp_path / "QQP-clean.zip", {"QQP/train.tsv": QQP_HEADER + "1\t2\t3\ta?\tb?\tyes\n"})
    with pytest.raises(RawFormatError, match=r"QQP/train.tsv:2: is_duplicate 'yes' is not 0 or 1"):
        read("qqp", {"glue_qqp": archive})


# -------------------------------------------------------------------------------------- SST-2 ---


def test_sst2_single_sentences_pass_the_family_check(tmp_path, tokenizer):
    archive = make_zip(tmp_path / "SST-2.zip", {
        "SST-2/train.tsv": "sentence\tlabel\nhide new secretions from the parental units \t0\n"
                           'the "greatest" musicians \t1\n',
        "SST-2/dev.tsv": "sentence\tlabel\nit 's a charming and often affecting journey . \t1\n",
    })
    records = read("sst2", {"glue_sst2": archive})
    assert records == [
        {"id": "sst-2", "text_a": "hide new secretions from the parental units ", "text_b": None, "label": "0"},
        {"id": "sst-3", "text_a": 'the "greatest" musicians ', "text_b": None, "label": "1"},
    ]
    family = get_task("sst2").family
    assert isinstance(family, Classification) and not family.pair
    features = family.featurize(records, tokenizer, {"max_length": 32}, train=True)
    assert features[1]["input_ids"] == tokenizer(['the "greatest" musicians '])["input_ids"][0]
    assert [f["labels"] for f in features] == [0, 1]
    assert read("sst2", {"glue_sst2": archive}, "dev")[0]["label"] == "1"


# --------------------------------------------------------------------------------------- SNLI ---


def snli_row(gold, s1, s2, pair_id):
    return {"annotator_labels": [gold], "captionID": "3416050480.jpg#4", "gold_label": gold, "pairID": pair_id,
            "sentence1": s1, "sentence1_binary_parse": "( x )", "sentence1_parse": "(ROOT x)", "sentence2": s2,
            "sentence2_binary_parse": "( y )", "sentence2_parse": "(ROOT y)"}


def test_snli_drops_pairs_without_gold_label_and_ignores_macosx_copies(tmp_path):
    rows = [snli_row("neutral", "A person on a horse jumps.", "A person is training.", "3416050480.jpg#4r1n"),
            snli_row("-", "Kids are smiling.", "Kids wave.", "x#1"),
            snli_row("contradiction", "A man \"sings\".", "Nobody sings.", "x#2")]
    archive = make_zip(tmp_path / "snli_1.0.zip", {
        "snli_1.0/snli_1.0_train.jsonl": jsonl(rows),
        "snli_1.0/snli_1.0_train.txt": "gold_label\tsentence1\n",
        "__MACOSX/snli_1.0/._snli_1.0_train.jsonl": b"\x00\x05\x16\x07 junk",
        "snli_1.0/snli_1.0_dev.jsonl": jsonl([snli_row("entailment", "a", "b", "d#1")]),
    })
    records = read("snli", {"snli": archive})
    assert records == [
        {"id": "snli-1", "text_a": "A person on a horse jumps.", "text_b": "A person is training.", "label": "neutral"},
        {"id": "snli-3", "text_a": 'A man "sings".', "text_b": "Nobody sings.", "label": "contradiction"},
    ]
    assert read("snli", {"snli": archive}, "dev")[0]["label"] == "entailment"


def test_snli_bad_line_names_member_and_line(tmp_path):
    archive = make_zip(tmp_path / "snli_1.0.zip", {
        "snli_1.0/snli_1.0_train.jsonl": jsonl([snli_row("neutral", "a", "b", "1")]) + '{"gold_label": \n'})
    with pytest.raises(RawFormatError, match=r"snli_1.0/snli_1.0_train.jsonl:2: not a JSON line"):
        read("snli", {"snli": archive})


# --------------------------------------------------------------------------------------- ANLI ---


def anli_row(uid, label, premise="Javier Torres (born May 14, 1988) is a boxer.",
             hypothesis="Javier was born in Mexico"):
    return {"uid": uid, "context": premise, "hypothesis": hypothesis, "label": label, "model_label": "n",
            "emturk": False, "genre": "", "reason": "", "tag": ""}


def test_anli_reads_all_three_rounds_keeping_the_round_in_the_id(tmp_path):
    archive = make_zip(tmp_path / "anli_v1.0.zip", {
        "anli_v1.0/R1/train.jsonl": jsonl([anli_row("a1", "c"), anli_row("a2", "e")]),
        "anli_v1.0/R2/train.jsonl": jsonl([anli_row("b1", "n")]),
        "anli_v1.0/R3/train.jsonl": jsonl([anli_row("c1", "e", "Premise three.", "Hypothesis three.")]),
        "anli_v1.0/R1/dev.jsonl": jsonl([anli_row("d1", "n")]),
        "anli_v1.0/R2/dev.jsonl": "",
        "anli_v1.0/R3/dev.jsonl": jsonl([anli_row("d3", "c")]),
    })
    records = read("anli", {"anli": archive})
    assert [(r["id"], r["label"]) for r in records] == [
        ("anli-r1-a1", "contradiction"), ("anli-r1-a2", "entailment"), ("anli-r2-b1", "neutral"),
        ("anli-r3-c1", "entailment")]
    assert records[-1]["text_a"] == "Premise three." and records[-1]["text_b"] == "Hypothesis three."
    assert [r["id"] for r in read("anli", {"anli": archive}, "dev")] == ["anli-r1-d1", "anli-r3-d3"]


def test_anli_unknown_label_names_location(tmp_path):
    archive = make_zip(tmp_path / "anli_v1.0.zip", {
        "anli_v1.0/R1/train.jsonl": jsonl([anli_row("a1", "x")]),
        "anli_v1.0/R2/train.jsonl": "", "anli_v1.0/R3/train.jsonl": ""})
    with pytest.raises(RawFormatError, match=r"R1/train.jsonl:1: unknown ANLI label 'x'"):
        read("anli", {"anli": archive})


# ---------------------------------------------------------------------------------- HellaSwag ---


HELLASWAG_ROW = {
    "ind": 4, "activity_label": "Removing ice from car",
    "ctx_a": "Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes "
             "smiles.",
    "ctx_b": "then", "ctx": "Then, the man writes ... smiles. then", "split": "train", "split_type": "indomain",
    "label": 3, "source_id": "activitynet~v_-1IBHYS3L-Y",
    "endings": [", the man adds wax to the windshield and cuts it.", ", a person board a ski lift.",
                ", the man puts on a christmas coat.", ", the man continues removing the snow on his car."],
}


def test_hellaswag_records_and_formatting(tmp_path, tokenizer):
    train = tmp_path / "hellaswag_train.jsonl"
    train.write_text(jsonl([HELLASWAG_ROW, {**HELLASWAG_ROW, "ind": 5, "ctx_b": "", "label": 0}]))
    val = tmp_path / "hellaswag_val.jsonl"
    val.write_text(jsonl([{**HELLASWAG_ROW, "split": "val", "label": "2"}]))
    paths = {"hellaswag_train": train, "hellaswag_val": val}
    records = read("hellaswag", paths)
    assert records[0] == {"id": "hellaswag-train-1", "context": HELLASWAG_ROW["ctx_a"], "question": "then",
                          "choices": HELLASWAG_ROW["endings"], "label": 3}
    assert read("hellaswag", paths, "dev")[0]["label"] == 2
    assert get_task("hellaswag").sources_for("en", "dev") == (SOURCES["hellaswag_val"],)
    family = get_task("hellaswag").family
    first, seconds = family.segments(records[0])
    assert first == HELLASWAG_ROW["ctx_a"] and seconds[3] == "then , the man continues removing the snow on his car."
    assert family.segments(records[1])[1][0] == HELLASWAG_ROW["endings"][0]  # empty ctx_b: no leading space
    feature = family.featurize(records[:1], tokenizer, {"max_length": 128}, train=True)[0]
    expected = tokenizer(HELLASWAG_ROW["ctx_a"], "then " + HELLASWAG_ROW["endings"][2])["input_ids"]
    assert feature["input_ids"][2][: feature["choice_lengths"][2]] == expected


def test_hellaswag_bad_label(tmp_path):
    train = tmp_path / "hellaswag_train.jsonl"
    train.write_text(jsonl([{**HELLASWAG_ROW, "label": 4}]))
    with pytest.raises(RawFormatError, match=r"hellaswag_train.jsonl:1: label 4 is not a choice index 0..3"):
        read("hellaswag", {"hellaswag_train": train})


# ---------------------------------------------------------------------------------- Cosmos QA ---


COSMOS_HEADER = "id,context,question,answer0,answer1,answer2,answer3,label\n"


def test_cosmosqa_csv_with_quotes_commas_and_newlines(tmp_path, tokenizer):
    train = tmp_path / "train.csv"
    train.write_text(COSMOS_HEADER
                     + '3Q9##Blog_1##q1_a1,"Good Old War and person L : I saw both of these bands Wednesday night , '
                       'and they both blew me away . ""Seriously"" .\nSecond line .",In what way were the bands '
                       'exceptional ?,They were loud,They blew me away,They were late,None of the above choices .,1\n'
                     + 'id2,Short context .,Why ?,a,b,"c, d",e,3\r\n', encoding="utf-8")
    valid = tmp_path / "valid.csv"
    valid.write_text(COSMOS_HEADER + "v1,c,q,a,b,c,d,0\n")
    paths = {"cosmosqa_train": train, "cosmosqa_valid": valid}
    records = read("cosmosqa", paths)
    assert records[0]["context"].endswith('blew me away . "Seriously" .\nSecond line .')
    assert records[0]["choices"][1] == "They blew me away" and records[0]["label"] == 1
    assert records[1] == {"id": "cosmosqa-id2", "context": "Short context .", "question": "Why ?",
                          "choices": ["a", "b", "c, d", "e"], "label": 3}
    assert read("cosmosqa", paths, "dev")[0]["id"] == "cosmosqa-v1"
    family = get_task("cosmosqa").family
    assert family.segments(records[1]) == ("Short context . Why ?", ["a", "b", "c, d", "e"])
    feature = family.featurize(records[1:], tokenizer, {"max_length": 64}, train=True)[0]
    expected = tokenizer("Short context . Why ?", "c, d")["input_ids"]
    assert feature["input_ids"][2][: feature["choice_lengths"][2]] == expected


def test_cosmosqa_bad_rows_name_their_line(tmp_path):
    train = tmp_path / "train.csv"
    train.write_text(COSMOS_HEADER + 'a,"multi\nline",q,a,b,c,d,0\nb,c,q,a,b,c,0\n')
    with pytest.raises(RawFormatError, match=r"train.csv:4: expected 8 comma-separated fields, found 7"):
        read("cosmosqa", {"cosmosqa_train": train})
    train.write_text(COSMOS_HEADER + "a,c,q,a,b,c,d,\n")
    with pytest.raises(RawFormatError, match=r"train.csv:2: label '' is not a choice index 0..3"):
        read("cosmosqa", {"cosmosqa_train": train})
    train.write_text("id,context,question,label\n")
    with pytest.raises(RawFormatError, match=r"train.csv:1: header lacks answer0, answer1, answer2, answer3"):
        read("cosmosqa", {"cosmosqa_train": train})


# ------------------------------------------------------------------------------ CommonsenseQA ---


def csqa_row(key, order="ABCDE", qid="075e483d21c29a511267ef62bedc0461"):
    texts = {"A": "ignore", "B": "enforce", "C": "authoritarian", "D": "yell at", "E": "avoid"}
    return {"answerKey": key, "id": qid, "question": {
        "question_concept": "punishing", "choices": [{"label": k, "text": texts[k]} for k in order],
        "stem": "The sanctions against the school were a punishing blow, and they seemed to what the efforts the "
                "school had made to change?"}}


def test_commonsenseqa_orders_choices_by_letter(tmp_path, tokenizer):
    train = tmp_path / "train_rand_split.jsonl"
    train.write_text(jsonl([csqa_row("A"), csqa_row("D", order="EDCBA", qid="q2")]))
    dev = tmp_path / "dev_rand_split.jsonl"
    dev.write_text(jsonl([csqa_row("E", qid="d1")]))
    paths = {"commonsenseqa_train": train, "commonsenseqa_dev": dev}
    records = read("commonsenseqa", paths)
    choices = ["ignore", "enforce", "authoritarian", "yell at", "avoid"]
    assert records[0] == {"id": "commonsenseqa-075e483d21c29a511267ef62bedc0461", "context": "",
                          "question": csqa_row("A")["question"]["stem"], "choices": choices, "label": 0}
    assert records[1]["choices"] == choices and records[1]["label"] == 3
    assert read("commonsenseqa", paths, "dev")[0]["label"] == 4
    family = get_task("commonsenseqa").family
    assert family.num_outputs() == 5
    feature = family.featurize(records[:1], tokenizer, {"max_length": 128}, train=True)[0]
    assert len(feature["input_ids"]) == 5
    stem = records[0]["question"]
    assert feature["input_ids"][3][: feature["choice_lengths"][3]] == tokenizer(stem, "yell at")["input_ids"]


def test_commonsenseqa_bad_choices(tmp_path):
    train = tmp_path / "train_rand_split.jsonl"
    train.write_text(jsonl([csqa_row("A", order="ABCD")]))
    with pytest.raises(RawFormatError, match=r"train_rand_split.jsonl:1: choice labels A, B, C, D, expected A-E"):
        read("commonsenseqa", {"commonsenseqa_train": train})
    train.write_text(jsonl([csqa_row("F")]))
    with pytest.raises(RawFormatError, match=r"answerKey 'F'"):
        read("commonsenseqa", {"commonsenseqa_train": train})


# ---------------------------------------------------------------------------------------- CCG ---


def auto(*sentences):
    """An AUTO file: per sentence an ID line and a derivation line with (<L cat pos pos word pred_arg>) leaves."""
    lines = []
    for sentence_id, leaves in sentences:
        lines.append(f"ID={sentence_id} PARSER=GOLD NUMPARSE=1")
        tree = " ".join(f"(<L {cat} NNP NNP {word} {cat}>)" for word, cat in leaves)
        lines.append(f"(<T S[dcl] 0 2> {tree} )")
    return "\n".join(lines) + "\n"


CCG_00 = auto(("wsj_0001.1", [("Pierre", "N/N"), ("Vinken", "N"), (",", ","), ("61", "N/N"), ("years", "N"),
                              ("-LRB-", "LRB"), (".", ".")]),
              ("wsj_0001.2", [("Mr.", "N/N"), ("Vinken", "N"), ("is", "(S[dcl]\\NP)/NP"), (".", ".")]))
CCG_19 = auto(("wsj_1901.1", [("Prices", "N"), ("rose", "S[dcl]\\NP"), (".", ".")]))
CCG_23 = auto(("wsj_2301.1", [("Rare", "(N/N)/(N/N)"), ("words", "N")]))


def ccgbank(tmp_path):
    return make_targz(tmp_path / "LDC2005T13.tgz", {
        "ccgbank_1_1/data/AUTO/00/wsj_0001.auto": CCG_00,
        "ccgbank_1_1/data/AUTO/19/wsj_1901.auto": CCG_19,
        "ccgbank_1_1/data/AUTO/23/wsj_2301.auto": CCG_23,
        "ccgbank_1_1/data/PARG/00/wsj_0001.parg": "<s id=\"wsj_0001.1\"> 6\n",
        "ccgbank_1_1/doc/README": "CCGbank",
    })


def test_ccg_reads_jiant_sections_and_numbers_categories_by_frequency(tmp_path):
    archive = ccgbank(tmp_path)
    train = read("ccg", {"ccgbank": archive})
    assert [r["id"] for r in train] == ["wsj_0001.1", "wsj_0001.2"]
    assert train[0]["tokens"] == ["Pierre", "Vinken", ",", "61", "years", "-LRB-", "."]
    assert train[0]["supertags"] == ["N/N", "N", ",", "N/N", "N", "LRB", "."]
    # counts over all sections: N 5, N/N 3, . 3, then one each (ties by the category string)
    ranked = ["N", ".", "N/N", "(N/N)/(N/N)", "(S[dcl]\\NP)/NP", ",", "LRB", "S[dcl]\\NP"]
    ids = {c: str(i) for i, c in enumerate(ranked)}
    for record in train:
        assert record["tags"] == [ids[c] for c in record["supertags"]]
    dev = read("ccg", {"ccgbank": archive}, "dev")
    assert [r["id"] for r in dev] == ["wsj_1901.1"] and dev[0]["tags"] == [ids["N"], ids["S[dcl]\\NP"], ids["."]]
    test = read("ccg", {"ccgbank": archive}, "test")
    assert test[0]["tags"] == [ids["(N/N)/(N/N)"], ids["N"]]
    family = get_task("ccg").family
    assert family.num_outputs() == 1364 and family.labels[-1] == "UNK"


def test_ccg_categories_beyond_the_label_set_become_unk(tmp_path, monkeypatch):
    from xstilts.tasks import ccg

    monkeypatch.setattr(ccg, "NUM_CATEGORIES", 3)
    records = read("ccg", {"ccgbank": ccgbank(tmp_path)})
    assert records[1]["tags"] == ["2", "0", "UNK", "1"]  # Mr./N/N  Vinken/N  is/(S[dcl]\NP)/NP  ./.


def test_ccg_malformed_derivation_and_missing_files(tmp_path):
    archive = make_targz(tmp_path / "LDC2005T13.tgz", {
        "ccgbank_1_1/data/AUTO/00/wsj_0001.auto": "ID=wsj_0001.1 PARSER=GOLD\n(<T S 0 2> (<L N NNP Pierre>) )\n"})
    with pytest.raises(RawFormatError, match=r"wsj_0001.auto:2: expected an ID= line followed by a derivation"):
        read("ccg", {"ccgbank": archive})
    other = make_targz(tmp_path / "other.tgz", {"ccgbank_1_1/data/PARG/00/wsj_0001.parg": "x"})
    with pytest.raises(RawFormatError, match=r"no data/AUTO/<section>/wsj_\*.auto entries"):
        read("ccg", {"ccgbank": other})


# ------------------------------------------------------------------------------------ SQuAD v2 ---


def test_squad_v2_unanswerable_questions_have_no_answers_and_point_at_cls(tmp_path, tokenizer):
    context = "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy."
    data = {"version": "v2.0", "data": [{"title": "Normans", "paragraphs": [{"context": context, "qas": [
        {"id": "q1", "question": "In what country is Normandy located?", "is_impossible": False,
         "answers": [{"text": "10th and 11th centuries", "answer_start": context.index("10th")}]},
        {"id": "q2", "question": "Who gave their name to Normandy in the 1000's?", "is_impossible": True,
         "answers": [], "plausible_answers": [{"text": "Normans", "answer_start": 4}]},
    ]}]}]}
    path = tmp_path / "train-v2.0.json"
    path.write_text(json.dumps(data))
    assert get_task("squad_v2").sources_for("en", "train") == (SOURCES["squad_v2_train"],)
    records = read("squad_v2", {"squad_v2_train": path})
    assert records[1] == {"id": "q2", "title": "Normans", "context": context,
                          "question": "Who gave their name to Normandy in the 1000's?", "answers": []}
    family = get_task("squad_v2").family
    assert isinstance(family, SpanQA)
    features = family.featurize(records, tokenizer, {"max_length": 64, "doc_stride": 16}, train=True)
    impossible = [f for f in features if f["example"] == 1]
    assert impossible and all((f["start_positions"], f["end_positions"]) == (0, 0) for f in impossible)
    assert any(f["start_positions"] > 0 for f in features if f["example"] == 0)
    assert family.gold(records)[0]["paragraphs"][1]["qas"][0]["answers"] == []


# ------------------------------------------------------------------------- format helpers ---


def test_json_lines_plain_file_and_errors(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_text('{"a": 1}\n\n{"b": 2}\r\n')
    assert list(json_lines(path)) == [(f"{path}:1", {"a": 1}), (f"{path}:3", {"b": 2})]
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(RawFormatError, match=r"f.jsonl:2: expected a JSON object, found list"):
        list(json_lines(path))
    path.write_bytes(b'{"a": 1}\n{"b": "\xff"}\n')
    with pytest.raises(RawFormatError, match=r"f.jsonl:2: not UTF-8"):
        list(json_lines(path))


def test_csv_records_line_numbers_follow_multiline_fields(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text('x,y\n1,"a\nb"\n2,"c ""q"""\n')
    assert list(csv_records(path, ("x", "y"))) == [(f"{path}:2", {"x": "1", "y": "a\nb"}),
                                                   (f"{path}:4", {"x": "2", "y": 'c "q"'})]
    path.write_text("")
    with pytest.raises(RawFormatError, match="empty file"):
        list(csv_records(path, ("x",)))


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_archive_entries_selects_files_in_name_order(tmp_path, kind):
    entries = {"top/b.txt": "B", "top/a.txt": "A", "top/skip.bin": "S"}
    archive = make_zip(tmp_path / "x.zip", entries) if kind == "zip" else make_targz(tmp_path / "x.tgz", entries)
    assert list(archive_entries(archive, lambda n: n.endswith(".txt"))) == [("top/a.txt", b"A"), ("top/b.txt", b"B")]
    (tmp_path / "plain").write_text("not an archive")
    with pytest.raises(RawFormatError, match="not a zip or tar archive"):
        list(archive_entries(tmp_path / "plain", lambda n: True))


# ---------------------------------------------------------------------- multiple-choice family ---


def mc_records():
    return [
        {"id": "a", "context": "the house is green", "question": "the river", "choices": ["is old", "walks",
                                                                                        "sees bread"], "label": 2},
        {"id": "b", "context": "Anna walks", "question": "", "choices": ["to the city", "home", "quickly"],
         "label": 0},
    ]


def test_multiple_choice_featurize_question_with_choice(tokenizer):
    family = MultipleChoice(num_choices=3)
    records = mc_records()
    features = family.featurize(records, tokenizer, {"max_length": 64}, train=True)
    assert [(f["example"], f["labels"]) for f in features] == [(0, 2), (1, 0)]
    for feature, record in zip(features, records):
        assert len(feature["input_ids"]) == 3 == len(feature["choice_lengths"])
        width = max(feature["choice_lengths"])
        for row, n, choice in zip(feature["input_ids"], feature["choice_lengths"], record["choices"]):
            second = f"{record['question']} {choice}".strip()
            assert row[:n] == tokenizer(record["context"], second)["input_ids"]
            assert len(row) == width and row[n:] == [tokenizer.pad_token_id] * (width - n)
    ids = features[0]["input_ids"][0][: features[0]["choice_lengths"][0]]
    assert ids[0] == tokenizer.cls_token_id and ids.count(tokenizer.sep_token_id) == 3
    # the features convert to one int32 array each, as xstilts.train stores them
    assert np.asarray(features[0]["input_ids"], dtype=np.int32).shape == (3, max(features[0]["choice_lengths"]))


def test_multiple_choice_featurize_question_with_context_and_truncation(tokenizer):
    family = MultipleChoice(num_choices=3, question_with="context")
    record = mc_records()[0]
    assert family.segments(record) == ("the house is green the river", ["is old", "walks", "sees bread"])
    feature = family.featurize([record], tokenizer, {"max_length": 64}, train=False)[0]
    assert feature["input_ids"][1][: feature["choice_lengths"][1]] == \
        tokenizer("the house is green the river", "walks")["input_ids"]
    long = {**record, "context": " ".join(["house"] * 60), "choices": ["river " * 30, "old", "walks"]}
    feature = family.featurize([long], tokenizer, {"max_length": 16}, train=False)[0]
    assert feature["choice_lengths"] == [16, 16, 16]


def test_pad_features_multiple_choice(tokenizer):
    family = MultipleChoice(num_choices=3)
    features = family.featurize(mc_records(), tokenizer, {"max_length": 64}, train=True)
    features[1]["input_ids"] = np.asarray(features[1]["input_ids"], dtype=np.int32)  # as training stores them
    batch = pad_features(features, tokenizer.pad_token_id)
    longest = max(n for f in features for n in f["choice_lengths"])
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (2, 3, longest)
    assert all(v.dtype == np.int64 for v in batch.values())
    np.testing.assert_array_equal(batch["labels"], [2, 0])
    for i, f in enumerate(features):
        for c, n in enumerate(f["choice_lengths"]):
            assert batch["attention_mask"][i, c].sum() == n
            np.testing.assert_array_equal(batch["input_ids"][i, c, :n], f["input_ids"][c][:n])
            assert (batch["input_ids"][i, c, n:] == tokenizer.pad_token_id).all()
    with pytest.raises(ValueError, match="mixes numbers of choices"):
        pad_features([features[0], {"input_ids": [[0, 2]] * 2, "choice_lengths": [2, 2], "labels": 0}], 1)


def test_multiple_choice_decode_gold_and_write(tmp_path):
    family = MultipleChoice(num_choices=4)
    records = [{"id": str(i), "context": "c", "question": "q", "choices": list("abcd"), "label": label}
               for i, label in enumerate([3, 0, 1])]
    features = [{"example": 2}, {"example": 0}, {"example": 1}]
    outputs = np.array([[0.1, 2.0, 0.0, -1.0], [0.0, 0.0, 0.0, 5.0], [3.0, 1.0, 1.0, 1.0]], dtype=np.float32)
    assert family.decode(records, features, outputs) == ["3", "0", "1"]
    assert family.gold(records) == ["3", "0", "1"]
    family.write(tmp_path / "p.tsv", family.gold(records))
    assert predfiles.read_labels(tmp_path / "p.tsv") == ["3", "0", "1"]
    assert family.num_outputs() == 4 and family.head == "choice" and family.file_kind == "labels"


GOOD = {"id": "a", "context": "c", "question": "q", "choices": ["x", "y"], "label": 1}


@pytest.mark.parametrize("change, message", [
    ({"choices": None}, "r: choices must be a list of strings"),
    ({"choices": ["x", 2]}, "r: choices must be a list of strings"),
    ({"choices": ["x", "y", "z"]}, "r: 3 choices, expected 2"),
    ({"label": 2}, "r: label 2 is not a choice index 0..1"),
    ({"label": "1"}, "r: label '1' is not a choice index 0..1"),
    ({"label": True}, "r: label True is not a choice index 0..1"),
    ({"context": None}, "r: context must be a string, not NoneType"),
    ({"context": "", "question": "q"}, "r: empty context and question"),
])
def test_multiple_choice_check_record(change, message):
    MultipleChoice(num_choices=2).check_record(GOOD, "r")
    with pytest.raises(RecordError) as e:
        MultipleChoice(num_choices=2).check_record({**GOOD, **change}, "r")
    assert str(e.value) == message
    with pytest.raises(RecordError, match="lacks choices"):
        MultipleChoice(num_choices=2).check_record({k: v for k, v in GOOD.items() if k != "choices"}, "r")


def test_multiple_choice_featurize_refuses_a_wrong_number_of_choices(tokenizer):
    with pytest.raises(RecordError, match=r"record 1 \(id 'b'\): 2 choices, expected 3"):
        MultipleChoice(num_choices=3).featurize([mc_records()[0], {**mc_records()[1], "choices": ["x", "y"]}],
                                                tokenizer, {"max_length": 32}, train=True)
    assert MultipleChoice(num_choices=3).featurize([], tokenizer, {"max_length": 32}, train=True) == []


def test_multiple_choice_empty_context_is_fine_when_the_question_goes_first():
    MultipleChoice(num_choices=2, question_with="context").check_record({**GOOD, "context": ""}, "r")


def test_multiple_choice_options_are_checked():
    with pytest.raises(ValueError, match="at least 2 choices"):
        MultipleChoice(num_choices=1)
    with pytest.raises(ValueError, match="question_with must be one of choice, context"):
        MultipleChoice(num_choices=2, question_with="first")


# ------------------------------------------------------------------------- shared heads (ANLI+) ---


SCHEMA = ROOT / "rules" / "config.schema.yaml"


@pytest.fixture
def main():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


@pytest.fixture
def bare(main):
    """config.yaml with only the baseline arm, so that the arm a test adds is the only one training its tasks
    (the shipped arms, e.g. multi, would otherwise meet a test's head changes first)."""
    main["arms"] = {"none": {"tasks": []}}
    main["grid"]["arms"] = ["none"]
    return main


def with_arm(config, arm, tasks, intermediate):
    assert arm not in config["arms"], f"arm {arm!r} exists already"
    config = copy.deepcopy(config)
    config["intermediate"].update(intermediate)
    config["arms"][arm] = {"tasks": tasks, "lr": 1e-5, "epochs": 2, "batch_size": 4, "grad_accum": 8}
    config["grid"]["arms"].append(arm)
    return config


def checked(config):
    validate(config, str(SCHEMA))
    return check_config(config)


def test_anli_plus_trains_one_nli_head(bare):
    config = with_arm(bare, "nli_plus", ["snli", "mnli", "anli"], {
        "snli": {"max_length": 256, "head": "nli"}, "mnli": {"max_length": 256, "head": "nli"},
        "anli": {"max_length": 256, "head": "nli"}})
    grid = checked(config)
    tasks = grid.arm_train_config(grid.models[0], "nli_plus", 1)["tasks"]
    assert {t: s["head"] for t, s in tasks.items()} == {"snli": "nli", "mnli": "nli", "anli": "nli"}


def test_shipped_anli_plus_arm_trains_one_nli_head(main):
    grid = checked(main)
    model = grid.models[0]
    tasks = grid.arm_train_config(model, "en:anli_plus", 1)["tasks"]
    assert {t: s.get("head", t) for t, s in tasks.items()} == {"snli": "nli", "mnli": "nli", "anli": "nli"}
    # the mnli arm trains the same task through the shared head name too; its head is still one NLI head
    assert grid.arm_train_config(model, "en:mnli", 1)["tasks"]["mnli"]["head"] == "nli"


def test_all_nine_intermediate_tasks_pass_the_config_checks(main):
    intermediate = {t: {"max_length": 256} for t in ("qqp", "sst2", "snli", "anli", "hellaswag", "cosmosqa",
                                                     "commonsenseqa", "ccg", "squad_v2")}
    intermediate["squad_v2"]["max_length"] = 384
    config = with_arm(main, "all", sorted(intermediate) + ["mnli", "squad"], intermediate)
    checked(config)


def test_a_head_named_after_another_task_is_shared(bare):
    # mnli without a head trains its own head, "mnli", which snli names: one head, and both are 3-way NLI
    grid = checked(with_arm(bare, "nli2", ["mnli", "snli"], {"mnli": {"max_length": 128},
                                                            "snli": {"max_length": 128, "head": "mnli"}}))
    tasks = grid.arm_train_config(grid.models[0], "nli2", 1)["tasks"]
    assert {t: s.get("head", t) for t, s in tasks.items()} == {"mnli": "mnli", "snli": "mnli"}


@pytest.mark.parametrize("tasks, intermediate, key, words", [
    (["snli", "qqp"], {"snli": {"max_length": 64, "head": "nli"}, "qqp": {"max_length": 64, "head": "nli"}},
     "intermediate.qqp.head", ["snli (classification, 3 outputs", "qqp (classification, 2 outputs"]),
    (["qqp", "mnli"], {"qqp": {"max_length": 64, "head": "mnli"}, "mnli": {"max_length": 64}},
     "intermediate.qqp.head", ["'mnli'", "qqp (classification, 2 outputs: 0, 1)"]),
    (["hellaswag", "commonsenseqa"], {"hellaswag": {"max_length": 64, "head": "mc"},
                                      "commonsenseqa": {"max_length": 64, "head": "mc"}},
     "intermediate.commonsenseqa.head", ["hellaswag (multiple_choice, 4 outputs)"]),
    (["squad", "ccg"], {"ccg": {"max_length": 64, "head": "squad"}},
     "intermediate.ccg.head", ["(tagging, 1364 outputs: 0, 1, 2, 3, 4, 5, 6, 7, ...)"]),
])
def test_shared_heads_must_agree(bare, tasks, intermediate, key, words):
    config = with_arm(bare, "bad", tasks, intermediate)
    with pytest.raises(ConfigError) as e:
        checked(config)
    message = str(e.value)
    assert message.startswith(f"config key {key}: arm 'bad' trains ")
    assert "tasks sharing a head need the same family and outputs" in message
    for word in words:
        assert word in message


def test_same_head_name_in_different_arms_is_not_shared(bare):
    config = with_arm(bare, "a1", ["snli"], {"snli": {"max_length": 64, "head": "h"}})
    config = with_arm(config, "a2", ["qqp"], {"qqp": {"max_length": 64, "head": "h"}})
    checked(config)


@pytest.mark.parametrize("head", [3, "bad name!", ""])
def test_schema_checks_the_head_name(main, head):
    config = with_arm(main, "x", ["snli"], {"snli": {"max_length": 64, "head": head}})
    with pytest.raises(Exception, match="head|does not match|is not of type"):
        validate(config, str(SCHEMA))


def test_new_tasks_have_no_native_training_data():
    """Nothing but English training data exists for these (X-CSQA has only dev/test in other languages, Okapi's
    HellaSwag only val): the registry says so, and an arm wanting them in another language must translate."""
    for name in NEW_TASKS:
        task = get_task(name)
        assert task.native_languages == () and task.translate_train == "", name
