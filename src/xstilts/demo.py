"""The embedded demo: small stand-ins for the real downloads, in the sources' exact raw formats and archive
layouts, plus the tiny offline model.

`build_demo(out)` writes
    <out>/mirror/<source>/<filename>   one file per raw source the demo needs, and <out>/mirror/SHA256SUMS
    <out>/corpus.txt                   all fixture text (the tiny model's SentencePiece is trained on it)
    <out>/tiny-xlmr/                   the tiny random-weight XLM-R
    <out>/tiny-mt/                     a tiny M2M100 trained briefly on the demo's word lists (xstilts.tiny_mt)
The pipeline "downloads" from the mirror with the same code that fetches the real URLs.

The data are learnable by rules that hold in every language, so a trained model beats an untrained one and
zero-shot transfer has something to transfer (shared tokens: digits and names):
  NLI        the hypothesis carries a digit that decides the label (1 entailment, 2 neutral, 3 contradiction);
  NER        names come from fixed person/location/organisation lists, everything else is O;
  QA         each context holds one four-digit year; the question asks for it and the year is the answer;
  Tatoeba    a sentence and its English translation share their name and number.
The native (translate-train) data, de and ru copies of the English MNLI and SQuAD training files, are made by
`translate` (word by word, so the rules still hold) and carry the quirks the readers handle in the real machine
translations: stray quotes and failed (empty) translations in XNLI-MT, answer offsets that miss the answer in
XTREME's SQuAD files.
Everything is generated from a fixed seed and archives carry fixed timestamps, so files and checksums are
identical on every machine.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
import zipfile
from pathlib import Path

LANGUAGES = ("en", "de", "ru")
WORDS = {
    "en": "the house river green small city old walks sees bread window music evening quickly "
          "table friend road winter light water book garden long child".split(),
    "de": "das haus fluss grün klein stadt alt geht sieht brot fenster musik abend schnell "
          "tisch freund straße winter licht wasser buch garten lang kind".split(),
    "ru": "дом река зелёный маленький город старый идёт видит хлеб окно музыка вечер быстро "
          "стол друг дорога зима свет вода книга сад длинный ребёнок".split(),
}
QUESTION = {"en": "When did it happen ?", "de": "Wann geschah es ?", "ru": "Когда это случилось ?"}
PERSONS = [["Anna"], ["Boris"], ["Carla", "Mendes"], ["Dmitri"], ["Elena", "Vogel"]]
LOCATIONS = [["Paris"], ["Oslo"], ["Lima"], ["Nova", "Lisboa"]]
ORGANIZATIONS = [["UNESCO"], ["FIFA"], ["Siemens"], ["Red", "Cross"]]
NLI_DIGITS = {"entailment": "1", "neutral": "2", "contradiction": "3"}
TATOEBA_CODES = {"de": "deu", "ru": "rus"}  # demo languages -> LASER's Tatoeba codes (xstilts.tasks.tatoeba)
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def _words(rng: random.Random, lang: str, n: int) -> list[str]:
    return [rng.choice(WORDS[lang]) for _ in range(n)]


def nli_pairs(rng: random.Random, lang: str, n: int) -> list[tuple[str, str, str]]:
    labels = list(NLI_DIGITS)
    out = []
    for i in range(n):
        label = labels[i % 3]
        premise = " ".join(_words(rng, lang, rng.randint(5, 9)))
        hypothesis = " ".join(_words(rng, lang, rng.randint(2, 4)) + [NLI_DIGITS[label]] + _words(rng, lang, 2))
        out.append((premise, hypothesis, label))
    rng.shuffle(out)
    return out


def ner_sentences(rng: random.Random, lang: str, n: int) -> list[list[tuple[str, str]]]:
    kinds = [("PER", PERSONS), ("LOC", LOCATIONS), ("ORG", ORGANIZATIONS)]
    sentences = []
    for _ in range(n):
        tokens = [(w, "O") for w in _words(rng, lang, rng.randint(3, 7))]
        for _ in range(rng.randint(1, 2)):
            kind, names = rng.choice(kinds)
            name = rng.choice(names)
            at = rng.randint(0, len(tokens))
            tokens[at:at] = [(w, ("B-" if j == 0 else "I-") + kind) for j, w in enumerate(name)]
        sentences.append(tokens)
    return sentences


def qa_articles(rng: random.Random, lang: str, n: int, prefix: str) -> list[dict]:
    paragraphs = []
    for i in range(n):
        year = str(rng.randint(1000, 2020))
        before = " ".join(_words(rng, lang, rng.randint(3, 12)))
        after = " ".join(_words(rng, lang, rng.randint(3, 12)))
        context = f"{before} {year} {after} ."
        paragraphs.append({"context": context, "qas": [{
            "id": f"{prefix}-{i:05d}", "question": QUESTION[lang],
            "answers": [{"answer_start": len(before) + 1, "text": year}]}]})
    return [{"title": f"demo-{lang}", "paragraphs": paragraphs}]


def tatoeba_pairs(rng: random.Random, lang: str, n: int) -> list[tuple[str, str]]:
    pairs = []
    for _ in range(n):
        name = " ".join(rng.choice(PERSONS + LOCATIONS))
        number = str(rng.randint(10, 999))
        pairs.append((" ".join([name] + _words(rng, lang, 3) + [number]),
                      " ".join([name] + _words(rng, "en", 3) + [number])))
    return pairs


# the demo's "machine translation": the WORDS lists are aligned word for word; Russian has no article, so its list
# lacks "the", which the translation drops
TRANSLATIONS = {lang: dict(zip(WORDS["en"][len(WORDS["en"]) - len(WORDS[lang]):], WORDS[lang]))
                for lang in ("de", "ru")}


def translate(text: str, lang: str) -> str:
    """`text` (demo English) word by word into `lang`; names, digits and punctuation stay as they are."""
    table = TRANSLATIONS[lang]
    return " ".join(table.get(w, w) for w in text.split() if w in table or w not in WORDS["en"])


def translated_mnli(rows: list[list[str]], lang: str) -> list[list[str]]:
    """XNLI-MT's layout for `lang`: the English file's rows (header first) translated line by line, labels kept;
    every 50th premise gains a stray opening quote and every 100th hypothesis is a failed (empty) translation,
    quirks the reader handles in the real files (xstilts.tasks.mnli)."""
    out = [rows[0]]
    for i, (premise, hypothesis, label) in enumerate(rows[1:], start=1):
        premise, hypothesis = translate(premise, lang), translate(hypothesis, lang)
        out.append(['"' + premise if i % 50 == 7 else premise, "" if i % 100 == 99 else hypothesis, label])
    return out


def translated_squad(articles: list[dict], lang: str) -> list[dict]:
    """XTREME's translate-train layout for `lang`: the English questions translated, ids kept, the answer (the year)
    re-located in the translated context; every 10th answer_start misses it by two characters and every 40th
    answer text gains a full stop the context does not have, quirks the reader handles in the real files
    (xstilts.tasks.squad)."""
    out = []
    for article in articles:
        paragraphs = []
        for paragraph in article["paragraphs"]:
            context = translate(paragraph["context"], lang)
            qas = []
            for qa in paragraph["qas"]:
                number = int(qa["id"].rsplit("-", 1)[1])
                year = qa["answers"][0]["text"]
                start = context.index(year) + (2 if number % 10 == 3 else 0)
                text = year + "." if number % 40 == 17 else year
                qas.append({"id": qa["id"], "question": QUESTION[lang],
                            "answers": [{"answer_start": start, "text": text}]})
            paragraphs.append({"context": context, "qas": qas})
        out.append({"title": f"demo-{lang}", "paragraphs": paragraphs})
    return out


def zip_archive(entries: dict[str, bytes | str]) -> bytes:
    """A zip of `entries` (name -> content) with fixed timestamps, so its bytes never change."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), data)
    return buffer.getvalue()


def targz_archive(entries: dict[str, bytes | str]) -> bytes:
    """A .tar.gz of `entries` with fixed timestamps, so its bytes never change."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for name, data in entries.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _tsv(rows: list[list[str]]) -> bytes:
    return "".join("\t".join(r) + "\n" for r in rows).encode()


XNLI_HEADER = ("language gold_label sentence1_binary_parse sentence2_binary_parse sentence1_parse sentence2_parse "
               "sentence1 sentence2 promptID pairID genre label1 label2 label3 label4 label5 "
               "sentence1_tokenized sentence2_tokenized match").split()


def raw_files(seed: int = 0, sizes: dict[str, int] | None = None) -> dict[str, bytes]:
    """`<source>/<filename>` -> bytes for every raw source of the demo."""
    n = {"mnli": 480, "xnli": 60, "panx_train": 400, "panx_eval": 60, "squad": 400, "xquad": 40, "tatoeba": 50,
         **(sizes or {})}
    rng = random.Random(seed)
    files: dict[str, bytes] = {}

    xnli = {}
    for split in ("dev", "test"):
        rows = [XNLI_HEADER]
        for lang in LANGUAGES:
            for i, (p, h, label) in enumerate(nli_pairs(rng, lang, n["xnli"])):
                rows.append([lang, label, "_", "_", "_", "_", p, h, str(i), str(i), "demo", label, label, label,
                             label, label, p, h, "True"])
        xnli[f"XNLI-1.0/xnli.{split}.tsv"] = _tsv(rows)
    files["xnli/XNLI-1.0.zip"] = zip_archive(xnli)

    mnli = [["premise", "hypo", "label"]] + [
        [p, h, "contradictory" if label == "contradiction" else label] for p, h, label in nli_pairs(rng, "en", n["mnli"])
    ]
    files["xnli_mt/XNLI-MT-1.0.zip"] = zip_archive({
        f"XNLI-MT-1.0/multinli/multinli.train.{lang}.tsv": _tsv(mnli if lang == "en" else translated_mnli(mnli, lang))
        for lang in LANGUAGES
    })

    panx = {}
    for lang in LANGUAGES:
        splits = {}
        for split in ("train", "dev", "test"):
            count = n["panx_train"] if split == "train" else n["panx_eval"]
            splits[split] = "".join(
                "".join(f"{lang}:{w}\t{t}\n" for w, t in sentence) + "\n" for sentence in ner_sentences(rng, lang, count)
            ).encode()
        panx[f"panx_dataset/{lang}.tar.gz"] = targz_archive(splits)
    files["panx/AmazonPhotos.zip"] = zip_archive(panx)

    for split, count in (("train", n["squad"]), ("dev", n["xquad"])):
        articles = qa_articles(rng, "en", count, f"squad-{split}")
        files[f"squad_v1_{split}/{split}-v1.1.json"] = json.dumps(
            {"data": articles, "version": "1.1"}, ensure_ascii=False).encode()
        if split == "train":
            for lang in LANGUAGES[1:]:
                files[f"squad_v1_translate_train_{lang}/squad.translate.train.en-{lang}.json"] = json.dumps(
                    {"data": translated_squad(articles, lang), "version": "1.1"}, ensure_ascii=False).encode()
    for lang in LANGUAGES:
        files[f"xquad_{lang}/xquad.{lang}.json"] = json.dumps(
            {"data": qa_articles(rng, lang, n["xquad"], "xquad"), "version": "1.0"}, ensure_ascii=False).encode()

    for lang, code in TATOEBA_CODES.items():
        pairs = tatoeba_pairs(rng, lang, n["tatoeba"])
        files[f"tatoeba_{code}/tatoeba.{code}-eng.{code}"] = "".join(s + "\n" for s, _ in pairs).encode()
        files[f"tatoeba_{code}_eng/tatoeba.{code}-eng.eng"] = "".join(t + "\n" for _, t in pairs).encode()
    files.update(cc100_files(seed))
    return files


def cc100_files(seed: int = 0, documents: int = 60) -> dict[str, bytes]:
    """CC-100's layout for each demo language (`cc100_<lang>/<lang>.txt.xz`, xstilts.tasks.cc100): xz text with one
    paragraph per line and documents separated by a blank line; paragraphs of the language's words with a name
    or a number now and then. Its own random generator, so the other fixtures do not change with it."""
    import lzma

    rng = random.Random(f"cc100:{seed}")
    files = {}
    for lang in LANGUAGES:
        texts = []
        for _ in range(documents):
            lines = []
            for _ in range(rng.randint(1, 4)):
                words = _words(rng, lang, rng.randint(4, 14))
                words.insert(rng.randint(0, len(words)), rng.choice([" ".join(rng.choice(PERSONS + LOCATIONS)),
                                                                     str(rng.randint(1, 2020))]))
                lines.append(" ".join(words) + " .")
            texts.append("".join(line + "\n" for line in lines))
        text = "\n".join(texts)
        files[f"cc100_{lang}/{lang}.txt.xz"] = lzma.compress(text.encode(), format=lzma.FORMAT_XZ, preset=6)
    return files


def corpus_lines(seed: int = 0) -> list[str]:
    """Text for the tiny model's SentencePiece: every word, name and question of the demo, in sentences."""
    rng = random.Random(seed)
    names = PERSONS + LOCATIONS + ORGANIZATIONS
    return [
        " ".join(_words(rng, lang, 6) + rng.choice(names) + [str(rng.randint(0, 2020)), QUESTION[lang]])
        for lang in LANGUAGES
        for _ in range(300)
    ]


def write_mirror(mirror: Path, files: dict[str, bytes]) -> None:
    sums = []
    for name, data in sorted(files.items()):
        path = Path(mirror) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    (Path(mirror) / "SHA256SUMS").write_text("".join(sums))


def build_demo(out: Path, seed: int = 0) -> None:
    from .tiny import build_tiny_xlmr
    from .tiny_mt import build_tiny_mt

    out = Path(out)
    write_mirror(out / "mirror", raw_files(seed))
    corpus = out / "corpus.txt"
    corpus.write_text("\n".join(corpus_lines(seed)) + "\n", encoding="utf-8")
    build_tiny_xlmr(corpus, out / "tiny-xlmr", seed=seed)
    build_tiny_mt(out / "tiny-mt", seed=seed)
