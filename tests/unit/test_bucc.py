"""BUCC 2018: the reader on archives in the real layout, the mining mode of the Retrieval family (threshold tuned on
dev, applied to test), gold files, and the whole path prepare -> decode -> prediction/gold files -> bucc_f1."""

import re
import io
import logging
import tarfile

import numpy as np
import pytest

from xstilts.families import RecordError, Retrieval
from xstilts.formats import RawFormatError
from xstilts.jsonl import read_jsonl
from xstilts.metrics import METRICS, bucc_f1
from xstilts.predfiles import read_for_scoring
from xstilts.prepare import prepare
from xstilts.retrieval import apply_threshold, best_threshold, mine_candidates
from xstilts.tasks import SOURCES, get_task

MINING = Retrieval(mode="mining")


def bucc_archive(path, lang, bucc_part, src, en, gold, raw_text=None):
    """A bucc2018-<lang>-en.<bucc_part>-gold.tar.bz2 as distributed: directories bucc2018/ and bucc2018/<lang>-en/
    holding <lang>-en.<bucc_part>.{<lang>,en,gold}; sentence files are 'id<TAB>sentence' lines. `raw_text`
    replaces whole files, keyed by their extension."""
    folder = f"bucc2018/{lang}-en"
    files = {
        lang: "".join(f"{i}\t{t}\n" for i, t in src),
        "en": "".join(f"{i}\t{t}\n" for i, t in en),
        "gold": "".join(f"{s}\t{t}\n" for s, t in gold),
        **(raw_text or {}),
    }
    files = {f"{folder}/{lang}-en.{bucc_part}.{ext}": text for ext, text in files.items()}
    with tarfile.open(path, "w:bz2") as tar:
        for name in ("bucc2018", folder):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def sid(lang, n):
    return f"{lang}-{n:09d}"


# Hand-made data: dev has two gold pairs and one unaligned "hub" sentence close to three English ones (a low
# ratio margin); test has the same shapes plus two identical German sentences, which XTREME cannot map to one id.
DEV_SRC = [(sid("de", 1), "Der Hund schläft."), (sid("de", 2), "Es regnet."), (sid("de", 3), "Drei Dinge.")]
DEV_EN = [(sid("en", n), t) for n, t in
          [(1, "The dog sleeps."), (2, "It rains."), (3, "One thing."), (4, "Two things."), (5, "Red things.")]]
DEV_GOLD = [(sid("de", 2), sid("en", 2)), (sid("de", 1), sid("en", 1))]
TEST_SRC = [(sid("de", 1), "Guten Morgen."), (sid("de", 2), "Ein Haus\tmit Tab"), (sid("de", 3), "Viel Zeug."),
            (sid("de", 4), "Doppelt."), (sid("de", 5), "Doppelt.")]
TEST_EN = [(sid("en", n), t) for n, t in
           [(1, "Good morning."), (2, "A house"), (3, "Stuff A."), (4, "Stuff B."), (5, "Stuff C."), (6, "Twice.")]]
TEST_GOLD = [(sid("de", 1), sid("en", 1)), (sid("de", 2), sid("en", 2)), (sid("de", 4), sid("en", 6))]


def unit(dim, *axes):
    v = np.zeros(dim, dtype=np.float32)
    v[list(axes)] = 1
    return v / np.linalg.norm(v)


# embedding of every (part, side, BUCC id), on orthogonal axes
VECTORS = {
    ("dev", "src", sid("de", 1)): unit(16, 0), ("dev", "src", sid("de", 2)): unit(16, 1),
    ("dev", "src", sid("de", 3)): unit(16, 2, 3, 4),
    **{("dev", "tgt", sid("en", n)): unit(16, n - 1) for n in range(1, 6)},
    ("test", "src", sid("de", 1)): unit(16, 5), ("test", "src", sid("de", 2)): unit(16, 6),
    ("test", "src", sid("de", 3)): unit(16, 7, 8, 9),
    ("test", "src", sid("de", 4)): unit(16, 10), ("test", "src", sid("de", 5)): unit(16, 10),
    **{("test", "tgt", sid("en", n)): unit(16, n + 4) for n in range(1, 6)},
    ("test", "tgt", sid("en", 6)): unit(16, 10),
}


def embed(records):
    return np.stack([VECTORS[r["part"], r["side"], r["id"].split(":", 1)[1]] for r in records])


@pytest.fixture
def raw(tmp_path):
    """Both archives of de, named as the task's sources."""
    paths = {}
    for part, bucc, src, en, gold in [("dev", "sample", DEV_SRC, DEV_EN, DEV_GOLD),
                                      ("test", "training", TEST_SRC, TEST_EN, TEST_GOLD)]:
        source = SOURCES[f"bucc2018-de-{part}"]
        paths[source.name] = bucc_archive(tmp_path / source.filename, "de", bucc, src, en, gold)
    return paths


def features(records):
    return [{"input_ids": [0], "example": i} for i in range(len(records))]


# ------------------------------------------------------------------------------------------- task ---


def test_task_registration_and_sources():
    task = get_task("bucc2018")
    assert task.languages == ("de", "fr", "ru", "zh")  # evaluate.py order
    assert task.metric == "bucc_f1" and task.group == "retrieval" and task.display == "BUCC"
    assert task.train_task is None and not task.finetuned
    assert task.family == MINING and task.family.file_kind == "pairs" and task.prediction_suffix == "tsv"
    assert {s.name for s in task.sources_for("ru", "test")} == {"bucc2018-ru-dev", "bucc2018-ru-test"}
    assert [s.name for s in task.sources_for("ru", "dev")] == ["bucc2018-ru-dev"]
    test, dev = SOURCES["bucc2018-zh-test"], SOURCES["bucc2018-zh-dev"]
    assert test.url == "https://comparable.limsi.fr/bucc2018/bucc2018-zh-en.training-gold.tar.bz2"
    assert dev.url == "https://comparable.limsi.fr/bucc2018/bucc2018-zh-en.sample-gold.tar.bz2"
    assert test.filename == "bucc2018-zh-en.training-gold.tar.bz2"
    assert dev.filename == "bucc2018-zh-en.sample-gold.tar.bz2"
    assert len(task.raw) == 8 and all(re.fullmatch(r"[0-9a-f]{64}", s.sha256) for s in task.raw)


def test_reader_test_split_holds_dev_then_test_with_part_ids(raw):
    records = list(get_task("bucc2018").read(raw, "de", "test"))
    assert [r["part"] for r in records] == ["dev"] * 8 + ["test"] * 11
    assert records[0] == {"id": "dev:de-000000001", "side": "src", "text": "Der Hund schläft.", "part": "dev",
                          "gold": "dev:en-000000001"}
    assert records[2]["gold"] is None  # no gold pair
    assert records[3] == {"id": "dev:en-000000001", "side": "tgt", "text": "The dog sleeps.", "part": "dev",
                          "gold": None}
    test = {r["id"]: r for r in records[8:]}
    assert test["test:de-000000002"]["text"] == "Ein Haus"  # the second field only, as `cut -f2`
    assert test["test:de-000000004"]["gold"] == "test:en-000000006"
    assert len({r["id"] for r in records}) == len(records)  # ids repeat across parts, but not with the part
    for number, record in enumerate(records, start=1):
        MINING.check_record(record, f"record {number}")


def test_reader_dev_split_needs_only_the_dev_archive(raw):
    dev_only = {"bucc2018-de-dev": raw["bucc2018-de-dev"]}
    records = list(get_task("bucc2018").read(dev_only, "de", "dev"))
    assert len(records) == 8 and {r["part"] for r in records} == {"dev"}


def test_reader_crlf_and_missing_final_newline(tmp_path):
    path = bucc_archive(tmp_path / "a.tar.bz2", "fr", "sample", [], [("en-000000001", "Hello.")], [],
                        raw_text={"fr": "fr-000000001\tBonjour.\r\nfr-000000002\tSalut."})
    records = list(get_task("bucc2018").read({"bucc2018-fr-dev": path}, "fr", "dev"))
    assert [(r["id"], r["text"]) for r in records if r["side"] == "src"] == [
        ("dev:fr-000000001", "Bonjour."), ("dev:fr-000000002", "Salut.")]


@pytest.mark.parametrize("src, gold, message", [
    ([("ru-000000001", "a"), ("ru-000000001", "b")], [], r"ru-en\.sample\.ru:2: id ru-000000001 occurs twice"),
    ([("ru-000000001", "a")], [("ru-000000009", "en-000000001")], r"ru-en\.sample\.gold:1: id ru-000000009 is not"),
    ([("ru-000000001", "a")], [("ru-000000001", "en-000000001"), ("ru-000000001", "en-000000001")],
     r"gold:2: ru-000000001 has a second gold pair"),
])
def test_reader_errors_name_member_and_line(tmp_path, src, gold, message):
    path = bucc_archive(tmp_path / "r.tar.bz2", "ru", "sample", src, [("en-000000001", "x")], gold)
    with pytest.raises(RawFormatError, match=message):
        list(get_task("bucc2018").read({"bucc2018-ru-dev": path}, "ru", "dev"))


def test_reader_line_without_tab_and_missing_member(tmp_path):
    path = bucc_archive(tmp_path / "r.tar.bz2", "zh", "sample", [("zh-000000001", "a")], [], [],
                        raw_text={"en": "en-000000001 no tab here\n"})
    with pytest.raises(RawFormatError, match=r"zh-en\.sample\.en:1: expected 'id<TAB>sentence'"):
        list(get_task("bucc2018").read({"bucc2018-zh-dev": path}, "zh", "dev"))
    # the test split reads the training archive too; a sample archive in its place is named
    good = bucc_archive(tmp_path / "g.tar.bz2", "zh", "sample", [("zh-000000001", "a")], [("en-000000001", "b")], [])
    with pytest.raises(RawFormatError, match="expected one entry ending in 'zh-en/zh-en.training.zh'"):
        list(get_task("bucc2018").read({"bucc2018-zh-dev": good, "bucc2018-zh-test": good}, "zh", "test"))


# ------------------------------------------------------------------------------------------ family ---


def test_modes_and_record_checks():
    assert Retrieval().mode == "nearest" and Retrieval().file_kind == "labels"
    assert MINING.file_kind == "pairs" and MINING.prediction_suffix == "tsv" and MINING.head is None
    with pytest.raises(ValueError, match="mode must be one of nearest, mining"):
        Retrieval(mode="mine")
    with pytest.raises(RecordError, match="needs part dev or test"):
        MINING.check_record({"id": "de-1", "side": "src", "text": "t"}, "r")
    with pytest.raises(RecordError, match="must start with 'test:'"):
        MINING.check_record({"id": "dev:de-1", "side": "src", "text": "t", "part": "test"}, "r")
    Retrieval().check_record({"id": "deu-1", "side": "src", "text": "t"}, "r")  # Tatoeba records need no part


def test_mining_tunes_on_dev_and_applies_to_test(raw, caplog):
    records = list(get_task("bucc2018").read(raw, "de", "test"))
    with caplog.at_level(logging.INFO, logger="xstilts.families.retrieval"):
        pairs = MINING.decode(records, features(records), embed(records))
    # the hub sentence de-3 has a low margin and is cut by the dev threshold; the repeated sentence de-4/de-5
    # cannot be mapped to one id and is dropped (text_load_unify + read_sent2id)
    assert pairs == [("de-000000001", "en-000000001"), ("de-000000002", "en-000000002")]
    message = next(r.getMessage() for r in caplog.records if "threshold" in r.getMessage())
    # margins 3.4286 (gold pairs) and 1.8462 (hub): the threshold is their midpoint
    assert "threshold 2.637363 tuned on dev (3 candidates, 2 gold pairs)" in message and "F1 100.00" in message


def test_mining_threshold_is_best_threshold_on_dev():
    records = [
        {"id": "dev:de-1", "side": "src", "text": "a", "part": "dev", "gold": "dev:en-1"},
        {"id": "dev:de-2", "side": "src", "text": "b", "part": "dev", "gold": "dev:en-2"},
        {"id": "dev:de-3", "side": "src", "text": "c", "part": "dev", "gold": None},
        {"id": "test:de-1", "side": "src", "text": "a", "part": "test", "gold": "test:en-1"},
        {"id": "test:de-2", "side": "src", "text": "b", "part": "test", "gold": None},
    ] + [{"id": f"{p}:en-{n}", "side": "tgt", "text": f"e{n}", "part": p, "gold": None}
         for p in ("dev", "test") for n in (1, 2, 3, 4)]
    rng = np.random.default_rng(5)
    embeddings = rng.standard_normal((len(records), 12)).astype(np.float32)
    got = MINING.decode(records, features(records), embeddings)
    # the same computation spelled out with xstilts.retrieval
    def rows(part, side):
        return [i for i, r in enumerate(records) if r["part"] == part and r["side"] == side]

    def mine(part):
        s, t = rows(part, "src"), rows(part, "tgt")
        return mine_candidates(embeddings[s], embeddings[t], [records[i]["id"].split(":")[1] for i in s],
                               [records[i]["id"].split(":")[1] for i in t], k=4,
                               src_texts=[records[i]["text"] for i in s], tgt_texts=[records[i]["text"] for i in t])
    threshold = best_threshold(mine("dev"), [("de-1", "en-1"), ("de-2", "en-2")])
    assert got == apply_threshold(mine("test"), threshold)


def test_mining_dev_only_split_predicts_dev(raw):
    records = list(get_task("bucc2018").read({"bucc2018-de-dev": raw["bucc2018-de-dev"]}, "de", "dev"))
    pairs = MINING.decode(records, features(records), embed(records))
    assert sorted(pairs) == sorted(DEV_GOLD)
    assert sorted(MINING.gold(records)) == sorted(DEV_GOLD)


def test_mining_without_dev_part_is_an_error(raw):
    records = [r for r in get_task("bucc2018").read(raw, "de", "test") if r["part"] == "test"]
    with pytest.raises(RecordError, match="needs the dev part"):
        MINING.decode(records, features(records), embed(records))


def test_gold_is_test_pairs_of_bucc_ids(raw, tmp_path):
    records = list(get_task("bucc2018").read(raw, "de", "test"))
    gold = MINING.gold(records)
    assert sorted(gold) == sorted(TEST_GOLD)
    MINING.write(tmp_path / "test-de.tsv", gold)
    lines = (tmp_path / "test-de.tsv").read_text().splitlines()
    assert sorted(lines) == sorted(f"{s}\t{t}" for s, t in TEST_GOLD)  # the format of XTREME's <lg>-en.*.gold


def test_gold_pointing_at_a_missing_sentence_is_an_error():
    records = [{"id": "test:de-1", "side": "src", "text": "a", "part": "test", "gold": "test:en-7"},
               {"id": "test:en-1", "side": "tgt", "text": "b", "part": "test", "gold": None}]
    with pytest.raises(RecordError, match="gold test:en-7 is not an English sentence"):
        MINING.gold(records)


# -------------------------------------------------------------------------------------- full path ---


def test_prepare_decode_and_score(raw, tmp_path):
    task = get_task("bucc2018")
    out = tmp_path / "prepared" / "bucc2018" / "de" / "test.jsonl"
    assert prepare("bucc2018", "de", "test", raw, out) == 19
    records = list(read_jsonl(out))
    assert records == list(task.read(raw, "de", "test"))
    pred_path, gold_path = tmp_path / "pred" / "test-de.tsv", tmp_path / "gold" / "test-de.tsv"
    task.family.write(pred_path, task.family.decode(records, features(records), embed(records)))
    task.family.write(gold_path, task.family.gold(records))
    gold, predictions = read_for_scoring(task.family.file_kind, pred_path, gold_path)
    scores = METRICS[task.metric](gold, predictions, language="de")
    assert scores == bucc_f1(gold, predictions)
    # 2 predicted pairs, both correct, of 3 gold pairs (de-4 repeats de-5's sentence and cannot be found)
    assert scores["precision"] == 100.0
    assert scores["recall"] == pytest.approx(200 / 3)
    assert scores["f1"] == pytest.approx(80.0)


def test_prepare_dev_split(raw, tmp_path):
    out = tmp_path / "dev.jsonl"
    assert prepare("bucc2018", "de", "dev", {"bucc2018-de-dev": raw["bucc2018-de-dev"]}, out) == 8
