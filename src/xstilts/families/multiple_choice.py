"""Multiple choice (HellaSwag, Cosmos QA, CommonsenseQA as intermediate tasks).

Each example becomes one feature holding `num_choices` encoded sequence pairs, one per choice; the model scores
each pair from its first token and a softmax over the choices picks the answer (jiant's MultipleChoiceModel,
HF's *ForMultipleChoice). Where the question goes is a per-dataset convention, `question_with`:

  "choice"   first segment = context, second = question + " " + choice. HF's run_swag (SWAG: sent1, then
             sent2 + " " + ending) and jiant's HellaSwag (ctx_a, then ctx_b + " " + ending).
  "context"  first segment = context + " " + question, second = choice. jiant's Cosmos QA (context + " " +
             question, then answer_i) and CommonsenseQA (the question stem, then the choice text; no context).

Empty parts are left out of the joins. Pairs are encoded as the tokenizer encodes sentence pairs (XLM-R:
<s> first </s></s> second </s>), truncated longest-first to `max_length` as jiant's truncate_sequences does.

The choices of one feature are padded to their longest with the pad token and their real lengths kept in
`choice_lengths` (a feature's `input_ids` is a rectangular [num_choices, length] list, so it converts to one
array); `pad_features` pads a batch to [batch, num_choices, longest choice] from `choice_lengths`. Predictions and
gold are the 0-based index of the chosen answer, one per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import predfiles
from . import Family, RecordError

QUESTION_WITH = ("choice", "context")


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class MultipleChoice(Family):
    num_choices: int
    question_with: str = "choice"

    name: ClassVar[str] = "multiple_choice"
    head: ClassVar[str] = "choice"
    prediction_suffix: ClassVar[str] = "tsv"
    file_kind: ClassVar[str] = "labels"
    gold_fields: ClassVar[tuple[str, ...]] = ("label",)
    required_fields: ClassVar[tuple[str, ...]] = ("id", "context", "question", "choices", "label")

    def __post_init__(self):
        if self.num_choices < 2:
            raise ValueError(f"multiple choice needs at least 2 choices, not {self.num_choices}")
        if self.question_with not in QUESTION_WITH:
            raise ValueError(f"question_with must be one of {', '.join(QUESTION_WITH)}, not {self.question_with!r}")

    def num_outputs(self) -> int:
        return self.num_choices  # one score per choice

    def check_record(self, record: dict, where: str) -> None:
        super().check_record(record, where)
        for key in ("context", "question"):
            if not isinstance(record[key], str):
                raise RecordError(f"{where}: {key} must be a string, not {type(record[key]).__name__}")
        choices = record["choices"]
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise RecordError(f"{where}: choices must be a list of strings")
        if len(choices) != self.num_choices:
            raise RecordError(f"{where}: {len(choices)} choices, expected {self.num_choices}")
        label = record["label"]
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < self.num_choices:
            raise RecordError(f"{where}: label {label!r} is not a choice index 0..{self.num_choices - 1}")
        if not self.segments(record)[0]:
            raise RecordError(f"{where}: empty context and question")

    def segments(self, record: dict) -> tuple[str, list[str]]:
        """The first segment and the second segment of each choice's sequence pair."""
        if self.question_with == "choice":
            return record["context"], [_join(record["question"], c) for c in record["choices"]]
        return _join(record["context"], record["question"]), list(record["choices"])

    def featurize(self, records, tokenizer, settings, train):
        if not records:
            return []
        firsts, seconds = [], []
        for example, record in enumerate(records):
            if len(record["choices"]) != self.num_choices:
                raise RecordError(f"record {example} (id {record.get('id')!r}): {len(record['choices'])} choices, "
                                  f"expected {self.num_choices}")
            first, second = self.segments(record)
            firsts.extend([first] * len(second))
            seconds.extend(second)
        encoded = tokenizer(firsts, seconds, truncation="longest_first", max_length=settings["max_length"])
        ids = encoded["input_ids"]
        features = []
        for example, record in enumerate(records):
            rows = ids[example * self.num_choices : (example + 1) * self.num_choices]
            lengths = [len(r) for r in rows]
            width = max(lengths)
            feature = {"input_ids": [list(r) + [tokenizer.pad_token_id] * (width - len(r)) for r in rows],
                       "choice_lengths": lengths, "example": example}
            if train:
                feature["labels"] = int(record["label"])
            features.append(feature)
        return features

    def decode(self, records, features, outputs):
        """`outputs`: one score per choice, [n_features, num_choices]."""
        best = np.asarray(outputs).argmax(axis=-1)
        predictions = [""] * len(records)
        for feature, index in zip(features, best):
            predictions[feature["example"]] = str(int(index))
        return predictions

    def gold(self, records):
        return [str(int(r["label"])) for r in records]

    def write(self, path, payload):
        predfiles.write_labels(path, payload)
