"""Cosmos QA (Huang et al. 2019), English: commonsense reading comprehension as 4-way multiple choice, an
X-STILTs intermediate task.

Read from the dataset repository's CSV files, data/{train,valid}.csv (header id, context, question, answer0..3,
label; quoted fields with doubled quotes; "valid" is our dev split), the files HF datasets' cosmos_qa reads (the
test split, data/test.jsonl, has no labels). Formatting as jiant's Cosmos QA task: the first segment is
context + " " + question, the second is the answer.
"""

from ..families import MultipleChoice
from ..formats import csv_records
from . import Source, Task, register
from .hellaswag import choice_label

BASE = "https://github.com/wilburOne/cosmosqa/raw/master/data"
FILES = {"train": "train", "dev": "valid"}
COLUMNS = ("id", "context", "question", "answer0", "answer1", "answer2", "answer3", "label")
# sha256 pins (Hugging Face datasets' download checksums for these files)
SHA256 = {
    "train": "d8d5ca1f9f6534b6530550718591af89372d976a8fc419360fab4158dee4d0b2",
    "valid": "a6a94fc1463ca82bb10f98ef68ed535405e6f5c36e044ff8e136b5c19dea63f3",
}
SOURCES = {
    split: Source(name=f"cosmosqa_{name}", filename=f"{name}.csv", url=f"{BASE}/{name}.csv", sha256=SHA256[name])
    for split, name in FILES.items()
}


def read(paths, lang, split):
    for where, row in csv_records(paths[SOURCES[split].name], COLUMNS):
        yield {"id": f"cosmosqa-{row['id']}", "context": row["context"], "question": row["question"],
               "choices": [row[f"answer{i}"] for i in range(4)], "label": choice_label(row["label"], 4, where)}


register(
    Task(
        name="cosmosqa",
        family=MultipleChoice(num_choices=4, question_with="context"),
        languages=("en",),
        splits=tuple(FILES),
        raw=tuple(SOURCES.values()),
        needs=lambda lang, split: (SOURCES[split].name,),
        read=read,
        metric="accuracy",
        display="CosmosQA",
        train_examples=25262,
        citation="Huang et al. 2019, Cosmos QA: Machine Reading Comprehension with Contextual Commonsense Reasoning",
    )
)
