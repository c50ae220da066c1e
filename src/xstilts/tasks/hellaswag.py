"""HellaSwag (Zellers et al. 2019), English: sentence completion as 4-way multiple choice, an X-STILTs
intermediate task (one of the paper's three best).

Read from the dataset repository's JSON-lines files, hellaswag_{train,val}.jsonl (fields ind, activity_label,
ctx_a, ctx_b, ctx, endings, label, ...; "val" is our dev split). Formatting as jiant's HellaSwag task and HF's
run_swag: the first segment is ctx_a, each choice's second segment is ctx_b + " " + ending (ctx_b is the start
of the sentence the ending completes; it may be empty).
"""

from ..families import MultipleChoice
from ..formats import RawFormatError, json_lines
from . import Source, Task, register

BASE = "https://raw.githubusercontent.com/rowanz/hellaswag/master/data"
FILES = {"train": "train", "dev": "val"}
# sha256 pins (Hugging Face datasets' download checksums for these files)
SHA256 = {
    "train": "dae5e69249868cb9fe4e23ff925c60b66169564cfb7072d793cd7356a2b69f8d",
    "val": "0aa3b88843990f3f10a97b9575c94d7b71fb2205240ba04ae4884d9e9c992588",
}
SOURCES = {
    split: Source(name=f"hellaswag_{name}", filename=f"hellaswag_{name}.jsonl", url=f"{BASE}/hellaswag_{name}.jsonl",
                  sha256=SHA256[name])
    for split, name in FILES.items()
}


def choice_label(raw, count: int, where: str) -> int:
    """A gold choice index given as an int or a string of digits (HellaSwag: int; Cosmos QA's CSV: string)."""
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < count:
        raise RawFormatError(f"{where}: label {raw!r} is not a choice index 0..{count - 1}")
    return raw


def read(paths, lang, split):
    source = SOURCES[split]
    for where, row in json_lines(paths[source.name]):
        try:
            context, start, endings, label = row["ctx_a"], row["ctx_b"], row["endings"], row["label"]
        except KeyError as e:
            raise RawFormatError(f"{where}: HellaSwag line lacks {e}") from None
        if not isinstance(endings, list) or len(endings) != 4:
            raise RawFormatError(f"{where}: expected 4 endings, found {endings!r:.80}")
        yield {"id": f"hellaswag-{split}-{where.rsplit(':', 1)[1]}", "context": context, "question": start,
               "choices": endings, "label": choice_label(label, 4, where)}


register(
    Task(
        name="hellaswag",
        family=MultipleChoice(num_choices=4, question_with="choice"),
        languages=("en",),
        splits=tuple(FILES),
        raw=tuple(SOURCES.values()),
        needs=lambda lang, split: (SOURCES[split].name,),
        read=read,
        metric="accuracy",
        display="HellaSwag",
        train_examples=39905,
        citation="Zellers et al. 2019, HellaSwag: Can a Machine Really Finish Your Sentence?",
    )
)
