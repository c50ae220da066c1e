"""SQuAD v1.1 (Rajpurkar et al. 2016): an intermediate task and the training set of XQuAD and MLQA."""

from ..families import SpanQA
from ..formats import squad_records
from . import Source, Task, register

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


def read(paths, lang, split):
    yield from squad_records(paths[f"squad_v1_{split}"])


register(
    Task(
        name="squad",
        family=SpanQA(),
        languages=("en",),
        splits=("train", "dev"),
        raw=(SQUAD_TRAIN, SQUAD_DEV),
        needs=lambda lang, split: (f"squad_v1_{split}",),
        read=read,
        metric="squad_em_f1",
        display="SQuAD",
        train_examples=87599,
        citation="Rajpurkar et al. 2016, SQuAD: 100,000+ Questions for Machine Comprehension of Text",
    )
)
