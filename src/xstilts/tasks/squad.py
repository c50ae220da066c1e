"""SQuAD v1.1 (Rajpurkar et al. 2016): an intermediate task and the training set of XQuAD and MLQA.

English: the official train-v1.1.json and dev-v1.1.json. The other languages are XTREME's translate-train
data (Hu et al. 2020, README "Translations"): train-v1.1.json machine-translated by the XTREME authors into the
10 non-English XQuAD languages, answer spans included, in SQuAD's JSON format, at
https://storage.googleapis.com/xtreme_translations/SQuAD/translate-train/squad.translate.train.en-<lang>.json;
existing data, not ours. They hold a training split only: the bucket's translate-dev files are undocumented and
8 to 32 times the size of dev-v1.1.json (38 to 156 MB against 4.9 MB), so they are not offered as SQuAD's dev
set. Question ids are kept as the files give them: SQuAD's own ids, by which other code matches a translation to
its English question.

Known quirk: the translated `answer_start` need not point at the translated answer text (XTREME's own SQuAD
reader, third_party/processors/squad.py, logs "Could not find answer" and skips such questions). Here an
answer keeps its offset when `context[answer_start:][:len(text)] == text`; otherwise it moves to its text's
only occurrence in the context (surrounding whitespace stripped); a question whose answer text is missing or
occurs several times is dropped, since any choice could teach the wrong span. Moved answers and dropped
questions are counted in the log, with a few dropped ids.
"""

import logging

from ..families import SpanQA
from ..formats import RawFormatError, locate_answer, squad_records
from . import Source, Task, register

log = logging.getLogger(__name__)

SQUAD_TRAIN = Source(
    name="squad_v1_train",
    filename="train-v1.1.json",
    url="https://rajpurkar.github.io/SQuAD-explorer/dataset/train-v1.1.json",
    sha256="3527663986b8295af4f7fcdff1ba1ff3f72d07d61a20f487cb238a6ef92fd955",
)
SQUAD_DEV = Source(
    name="squad_v1_dev",
    filename="dev-v1.1.json",
    url="https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json",
    sha256="95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9",
)
# sha256 of each translate-train file as published in TensorFlow Datasets' checksums for its xquad builder
# (tensorflow/datasets, tensorflow_datasets/url_checksums/xquad.txt, commit 24211da0), which also lists their
# sizes: 93 MB (de) to 380 MB (ru), against 30 MB for the English train-v1.1.json.
TRANSLATE_TRAIN_SHA256 = {
    "ar": "d2d01110aa646b547eec88b14b3930dc027c9d149c4962376a1551e251ec3f9b",
    "de": "3c125cb2a31e8ad167c4590ece8fdfd16018a5bbf9475dbfac034c1816a4ab02",
    "el": "9d648f92883a88b27bb0d9ab502a0512bf5ffe7f8ce00bc205b19d66029dab04",
    "es": "cb8f68b8e4cff696209a5ec249a5dc9e2a75a5c7f9dbbfa8a8be1dcf1f91c81a",
    "hi": "fdfd8c59359943c6a55022403e7dfa047e7ee1dea734086a3c73c1adbb44d254",
    "ru": "075818cce7ca8d6efe2c783b125d91bd79add93ddfe8c2b0f45fb610d7552f48",
    "th": "3ae03fd7a9d51a6f45e74a70b8d6168eb365114fcf5de21f34f212197e085eab",
    "tr": "7c618d3f5e0c19d878686a9874b15a10d6f842ae9451e12d8d7d51531bfe79e6",
    "vi": "ad6d3ba17b8e672e7066708ce5795f0f933f3ce18b7442ee11d6e3072f44f60b",
    "zh": "411e4023e4f3627ccb4873edfb77b36e97470b4226a076e6a632544c92353d24",
}
TRANSLATED = tuple(TRANSLATE_TRAIN_SHA256)
BUCKET = "https://storage.googleapis.com/xtreme_translations/SQuAD/translate-train"
TRANSLATE_TRAIN = tuple(
    Source(
        name=f"squad_v1_translate_train_{lang}",
        filename=f"squad.translate.train.en-{lang}.json",
        url=f"{BUCKET}/squad.translate.train.en-{lang}.json",
        sha256=digest,
    )
    for lang, digest in TRANSLATE_TRAIN_SHA256.items()
)


def needs(lang, split):
    if lang == "en":
        return (f"squad_v1_{split}",)
    if split != "train":
        raise ValueError(f"squad {lang}: XTREME's translations of SQuAD have a train split only, not {split!r}")
    return (f"squad_v1_translate_train_{lang}",)


def read(paths, lang, split):
    (source,) = needs(lang, split)
    if lang == "en":
        yield from squad_records(paths[source])
    else:
        yield from translated_records(paths[source], f"squad {lang}/{split}")


def translated_records(path, label):
    """Records of a machine-translated SQuAD file, answers placed by `locate_answer`; questions left without an
    answer are dropped. Both are counted in the log under `label`."""
    questions = moved = 0
    dropped = []
    for record in squad_records(path):
        questions += 1
        answers = []
        for answer in record["answers"]:
            if not isinstance(answer["text"], str):
                raise RawFormatError(f"{path}: question id {record['id']!r}: answer text {answer['text']!r} is not "
                                     f"a string")
            located = locate_answer(record["context"], answer)
            if located is not None:
                moved += located is not answer
                answers.append(located)
        if not answers:
            dropped.append(record["id"])
            continue
        yield {**record, "answers": answers}
    log.log(
        logging.WARNING if dropped else logging.INFO,
        "%s: %d questions; %d answers moved to their text's only occurrence in the context (answer_start did not "
        "point at it); %d questions dropped (answer text not in the context, or in it more than once)%s",
        label, questions, moved, len(dropped), f", e.g. ids {', '.join(dropped[:5])}" if dropped else "",
    )


register(
    Task(
        name="squad",
        family=SpanQA(),
        languages=("en", *TRANSLATED),
        splits=("train", "dev"),
        raw=(SQUAD_TRAIN, SQUAD_DEV, *TRANSLATE_TRAIN),
        needs=needs,
        read=read,
        metric="squad_em_f1",
        display="SQuAD",
        train_examples=87599,
        citation="Rajpurkar et al. 2016, SQuAD: 100,000+ Questions for Machine Comprehension of Text",
        translate_train="XTREME translate-train: SQuAD v1.1's training set machine-translated by the XTREME "
                        "authors (Hu et al. 2020), answer spans included; questions whose answer cannot be placed "
                        "in the translated context are dropped",
    )
)
