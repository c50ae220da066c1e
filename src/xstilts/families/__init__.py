"""Task families hold the code that tasks share: record validation, tokenization into features, decoding
model outputs into predictions in the official XTREME formats, and gold files in the same formats.

Families are torch-free (they receive a tokenizer object and numpy arrays), so they can be unit-tested on
fixtures and imported cheaply when Snakemake parses the workflow. The neural heads that go with them live in
xstilts.model, keyed by `Family.head`.

Normalized record formats (one JSON object per line in data/prepared/<task>/<lang>/<split>.jsonl):
  classification   {"id", "text_a", "text_b" (or null), "label"}
  tagging          {"id", "tokens": [...], "tags": [...]}
  span_qa          {"id", "title", "context", "question", "answers": [{"text", "answer_start"}]}
                   (answers may be empty: SQuAD v2.0's unanswerable questions, whose windows point at <s>)
  multiple_choice  {"id", "context", "question", "choices": [...], "label": <index of the right choice>}
  retrieval        {"id", "side": "src"|"tgt", "text", "gold": <tgt id> (src side only; null if none)}
  masked_lm        {"id", "text"}   (one line of a monolingual corpus; see families/mlm.py)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np


class RecordError(ValueError):
    """A normalized record is malformed; the message names file:line."""


class Family:
    name: ClassVar[str]
    head: ClassVar[str | None]  # head type in xstilts.model: "sequence", "token", "span", "choice", "mlm" or None
    prediction_suffix: ClassVar[str]  # "tsv" or "json", as evaluate.py expects
    file_kind: ClassVar[str]  # how prediction and gold files are read for scoring (xstilts.predfiles.KINDS)
    required_fields: ClassVar[tuple[str, ...]]
    # whether an English training set of this family can be machine-translated into a training set
    untranslatable_reason: ClassVar[str | None] = None

    @property
    def translatable(self) -> bool:
        return self.untranslatable_reason is None

    def num_outputs(self) -> int:
        raise NotImplementedError

    def check_record(self, record: dict, where: str) -> None:
        missing = [k for k in self.required_fields if k not in record]
        if missing:
            raise RecordError(f"{where}: {self.name} record lacks {', '.join(missing)}")

    # fields that hold the answer: prediction never sees them (see `without_gold`)
    gold_fields: ClassVar[tuple[str, ...]]

    def without_gold(self, records: list[dict]) -> list[dict]:
        """The records as prediction sees them: test answers removed, so they cannot leak into predictions."""
        return [{k: v for k, v in r.items() if k not in self.gold_fields} for r in records]

    def featurize(self, records: list[dict], tokenizer: Any, settings: dict, train: bool) -> list[dict]:
        """Tokenize records into model features; every feature keeps `example` (its record index).
        `settings` is the task's config slice: `max_length` (subwords) and family options."""
        raise NotImplementedError

    def decode(self, records: list[dict], features: list[dict], outputs: np.ndarray | tuple) -> Any:
        """Turn model outputs for `features` into the prediction payload written by `write`."""
        raise NotImplementedError

    def gold(self, records: list[dict]) -> Any:
        raise NotImplementedError

    def write(self, path, payload) -> None:
        raise NotImplementedError


def pad_features(features: list[dict], pad_token_id: int) -> dict[str, np.ndarray]:
    """Pad a batch of features to its longest sequence. Sequence-valued `labels` pad with -100 (ignored by
    the loss); scalar fields stack. Bookkeeping fields (`example`, `offsets`, ...) are dropped. Multiple-choice
    features (with `choice_lengths`) give [batch, choices, length] arrays (see `_pad_choices`)."""
    if "choice_lengths" in features[0]:
        return _pad_choices(features, pad_token_id)
    length = max(len(f["input_ids"]) for f in features)
    batch: dict[str, np.ndarray] = {}
    batch["input_ids"] = np.full((len(features), length), pad_token_id, dtype=np.int64)
    batch["attention_mask"] = np.zeros((len(features), length), dtype=np.int64)
    for i, f in enumerate(features):
        n = len(f["input_ids"])
        batch["input_ids"][i, :n] = f["input_ids"]
        batch["attention_mask"][i, :n] = 1
    if "labels" in features[0]:
        first = features[0]["labels"]
        if np.ndim(first) == 1:  # per-token labels: a list, or an array (masked LM)
            labels = np.full((len(features), length), -100, dtype=np.int64)
            for i, f in enumerate(features):
                labels[i, : len(f["labels"])] = f["labels"]
            batch["labels"] = labels
        else:
            batch["labels"] = np.array([f["labels"] for f in features], dtype=np.int64)
    for key in ("start_positions", "end_positions"):
        if key in features[0]:
            batch[key] = np.array([f[key] for f in features], dtype=np.int64)
    return batch


def _pad_choices(features: list[dict], pad_token_id: int) -> dict[str, np.ndarray]:
    """Multiple-choice features: `input_ids` holds one row per choice (padded within the feature), whose real
    lengths are `choice_lengths`. Pads to the batch's longest choice; `labels` are the gold choice indices."""
    choices = {len(f["choice_lengths"]) for f in features}
    if len(choices) != 1:
        raise ValueError(f"a multiple-choice batch mixes numbers of choices {sorted(choices)}")
    length = max(max(f["choice_lengths"]) for f in features)
    shape = (len(features), choices.pop(), length)
    batch = {"input_ids": np.full(shape, pad_token_id, dtype=np.int64),
             "attention_mask": np.zeros(shape, dtype=np.int64)}
    for i, f in enumerate(features):
        for c, n in enumerate(f["choice_lengths"]):
            batch["input_ids"][i, c, :n] = f["input_ids"][c][:n]
            batch["attention_mask"][i, c, :n] = 1
    if "labels" in features[0]:
        batch["labels"] = np.array([f["labels"] for f in features], dtype=np.int64)
    return batch


from .classification import Classification  # noqa: E402
from .mlm import MaskedLM  # noqa: E402
from .multiple_choice import MultipleChoice  # noqa: E402
from .retrieval import Retrieval  # noqa: E402
from .span_qa import SpanQA  # noqa: E402
from .tagging import Tagging  # noqa: E402

__all__ = ["Family", "RecordError", "pad_features", "Classification", "Tagging", "SpanQA", "Retrieval",
           "MultipleChoice", "MaskedLM"]
