"""TyDiQA-GoldP (Clark et al. 2020): gold-passage extractive QA in 9 languages; fine-tuned on its English train set.

As XTREME (scripts/download_data.sh `download_tydiqa`, utils_preprocess.py `tydiqa_preprocess`):
- train: the one `tydiqa-goldp-v1.1-train.json` holds every language; a question's language is the part of
  its id before the first '-' (`english-...`), mapped by LANG2ISO below (an unknown prefix is an error, as
  XTREME's dict lookup). Only the English part is used (zero-shot), so only `en` has a train split.
- test: XTREME's test set is the official dev set, `tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-<language>.json`
  inside tydiqa-goldp-v1.1-dev.tgz (XTREME renames them to tydiqa.goldp.<iso>.dev.json).
XTREME also rewrites each training question into its own one-paragraph article with the id cut to its last
'-' part; neither changes a record here (ids are kept whole: the cut ones repeat across questions).
"""

from ..families import SpanQA
from ..formats import RawFormatError, read_member, squad_records
from . import Source, Task, register

LANG2ISO = {"arabic": "ar", "bengali": "bn", "english": "en", "finnish": "fi", "indonesian": "id", "korean": "ko",
            "russian": "ru", "swahili": "sw", "telugu": "te"}
ISO2LANG = {iso: name for name, iso in LANG2ISO.items()}

TRAIN = Source(
    name="tydiqa_train",
    filename="tydiqa-goldp-v1.1-train.json",
    url="https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-train.json",
    sha256="cefc8e09ff2548d9b10a678d3a6bbbe5bc036be543f92418819ea676c97be23b",
)
DEV = Source(
    name="tydiqa_dev",
    filename="tydiqa-goldp-v1.1-dev.tgz",
    url="https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-dev.tgz",
    sha256="5a415d019a345794c8a83191ecfe4a761eaab69dab79c3c9813d4379e1cc5519",
)


def needs(lang, split):
    return ("tydiqa_train",) if split == "train" else ("tydiqa_dev",)


def read(paths, lang, split):
    if split == "train":
        if lang != "en":
            raise ValueError(f"tydiqa: train is English only (zero-shot); there is no {lang} train split")
        path = paths["tydiqa_train"]
        for number, record in enumerate(squad_records(path), start=1):
            prefix = record["id"].split("-")[0]
            if prefix not in LANG2ISO:
                raise RawFormatError(f"{path}: question {number} (id {record['id']!r}): unknown language prefix "
                                     f"{prefix!r} (known: {', '.join(LANG2ISO)})")
            if LANG2ISO[prefix] == lang:
                yield record
    else:
        archive = paths["tydiqa_dev"]
        name = f"tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{ISO2LANG[lang]}.json"
        yield from squad_records(f"{archive}:{name}", read_member(archive, name))


register(
    Task(
        name="tydiqa",
        family=SpanQA(),
        languages=tuple("en ar bn fi id ko ru sw te".split()),
        splits=("train", "test"),
        raw=(TRAIN, DEV),
        needs=needs,
        read=read,
        metric="squad_em_f1",
        train_task="tydiqa",
        group="qa",
        display="TyDiQA",
        train_examples=3696,
        test_examples=1000,
        citation="Clark et al. 2020, TyDi QA: A Benchmark for Information-Seeking Question Answering in "
                 "Typologically Diverse Languages",
    )
)
