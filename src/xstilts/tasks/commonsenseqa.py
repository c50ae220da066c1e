"""CommonsenseQA (Talmor et al. 2019), English: 5-way multiple-choice questions, an X-STILTs intermediate task.

Read from the official random-split JSON-lines files, {train,dev}_rand_split.jsonl (fields id, answerKey A-E,
question: {stem, question_concept, choices: [{label, text}]}), the files HF datasets' commonsense_qa reads.
Formatting as jiant's CommonsenseQA task: no context; the first segment is the question stem, the second is the
choice text, choices ordered by their letters A-E, and the label is the answer key's position in that order.
"""

from ..families import MultipleChoice
from ..formats import RawFormatError, json_lines
from . import Source, Task, register

BASE = "https://s3.amazonaws.com/commensenseqa"
KEYS = ("A", "B", "C", "D", "E")
# sha256 pins (Hugging Face datasets' download checksums for these files)
SHA256 = {
    "train": "58ffa3c8472410e24b8c43f423d89c8a003d8284698a6ed7874355dedd09a2fb",
    "dev": "3210497fdaae614ac085d9eb873dd7f4d49b6f965a93adadc803e1229fd8a02a",
}
SOURCES = {
    split: Source(name=f"commonsenseqa_{split}", filename=f"{split}_rand_split.jsonl",
                  url=f"{BASE}/{split}_rand_split.jsonl", sha256=SHA256[split])
    for split in ("train", "dev")
}


def read(paths, lang, split):
    for where, row in json_lines(paths[SOURCES[split].name]):
        try:
            question, key = row["question"], row["answerKey"]
            stem, choices = question["stem"], {c["label"]: c["text"] for c in question["choices"]}
        except (KeyError, TypeError) as e:
            raise RawFormatError(f"{where}: CommonsenseQA line lacks or misshapes {e}") from None
        if sorted(choices) != list(KEYS):
            raise RawFormatError(f"{where}: choice labels {', '.join(sorted(choices))}, expected A-E")
        if key not in KEYS:
            raise RawFormatError(f"{where}: answerKey {key!r} is not one of A-E")
        yield {"id": f"commonsenseqa-{row.get('id', where.rsplit(':', 1)[1])}", "context": "", "question": stem,
               "choices": [choices[k] for k in KEYS], "label": KEYS.index(key)}


register(
    Task(
        name="commonsenseqa",
        family=MultipleChoice(num_choices=5, question_with="context"),
        languages=("en",),
        splits=tuple(SOURCES),
        raw=tuple(SOURCES.values()),
        needs=lambda lang, split: (SOURCES[split].name,),
        read=read,
        metric="accuracy",
        display="CommonsenseQA",
        train_examples=9741,
        citation="Talmor et al. 2019, CommonsenseQA: A Question Answering Challenge Targeting Commonsense Knowledge",
    )
)
