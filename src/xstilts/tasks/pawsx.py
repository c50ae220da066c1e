"""PAWS-X (Yang et al. 2019): adversarial paraphrase pairs, English plus 6 human-translated evaluation languages.

Zero-shot: fine-tuning uses the English `x-final/en/train.tsv` only. The archive also holds a machine-translated
`translated_train.tsv` per language (HF `PAWS-X.xx` train is that file); reading it would make the run
translate-train, so no (lang, split) of this task ever names it.

As XTREME's utils_preprocess.py `pawsx_preprocess`: the first line (header `id sentence1 sentence2 label`) and
nothing else is skipped (the older first-line bug, xtreme PR #71, dropped the first example too), the
sentences are stripped, and rows are kept as they are, including the "NS" placeholders of a few translated
dev/test rows (paws #15; XTREME evaluates on them). A row with fewer than 4 fields raises RawFormatError:
XTREME indexes `items[3]` and crashes on such a row, so no XTREME data set was ever built from one.
"""

from ..families import Classification
from ..formats import RawFormatError, tsv_rows
from . import Source, Task, register

LABELS = ("0", "1")
FILES = {"train": "train.tsv", "dev": "dev_2k.tsv", "test": "test_2k.tsv"}

PAWSX = Source(
    name="pawsx",
    filename="x-final.tar.gz",
    url="https://storage.googleapis.com/paws/pawsx/x-final.tar.gz",
    sha256="4146db499101d66e68ae4c8ed3cf9dadecd625f44b7d8cf3d4a0fe93afc4fd9f",
)


def read(paths, lang, split):
    if split == "train" and lang != "en":
        raise ValueError(f"pawsx: train is English only (zero-shot); {lang} train would be the machine-translated "
                         "translated_train.tsv")
    for where, fields in tsv_rows(paths["pawsx"], f"x-final/{lang}/{FILES[split]}", columns=4, header=True):
        label = fields[3].strip()
        if label not in LABELS:
            raise RawFormatError(f"{where}: label {fields[3]!r} is not 0 or 1")
        text_a, text_b = fields[1].strip(), fields[2].strip()
        if not text_a or not text_b:
            # XTREME would keep the pair with an empty sentence; the classification family rejects it, so say
            # where it is rather than fail later on a record number
            raise RawFormatError(f"{where}: empty sentence{'1' if not text_a else '2'}")
        yield {"id": f"{lang}-{split}-{where.rsplit(':', 1)[1]}", "text_a": text_a, "text_b": text_b, "label": label}


register(
    Task(
        name="pawsx",
        family=Classification(labels=LABELS),
        languages=tuple("de en es fr ja ko zh".split()),
        splits=("train", "dev", "test"),
        raw=(PAWSX,),
        read=read,
        metric="accuracy",
        train_task="pawsx",
        group="classification",
        display="PAWS-X",
        train_examples=49401,
        test_examples=2000,
        citation="Yang et al. 2019, PAWS-X: A Cross-lingual Adversarial Dataset for Paraphrase Identification",
    )
)
