"""Sentence and sentence-pair classification (XNLI, PAWS-X; MNLI, QQP, SST-2, ANLI as intermediate tasks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import predfiles
from . import Family, RecordError


@dataclass(frozen=True)
class Classification(Family):
    labels: tuple[str, ...]
    pair: bool = True

    name: ClassVar[str] = "classification"
    head: ClassVar[str] = "sequence"
    prediction_suffix: ClassVar[str] = "tsv"
    file_kind: ClassVar[str] = "labels"
    gold_fields: ClassVar[tuple[str, ...]] = ("label",)
    required_fields: ClassVar[tuple[str, ...]] = ("id", "text_a", "text_b", "label")

    def num_outputs(self) -> int:
        return len(self.labels)

    def check_record(self, record: dict, where: str) -> None:
        super().check_record(record, where)
        if record["label"] not in self.labels:
            raise RecordError(f"{where}: label {record['label']!r} is not one of {', '.join(self.labels)}")
        if self.pair and not record["text_b"]:
            raise RecordError(f"{where}: sentence-pair record has an empty text_b")

    def featurize(self, records, tokenizer, settings, train):
        index = {label: i for i, label in enumerate(self.labels)}
        second = [r["text_b"] for r in records] if self.pair else None
        encoded = tokenizer([r["text_a"] for r in records], second, truncation=True, max_length=settings["max_length"])
        features = [{"input_ids": ids, "example": i} for i, ids in enumerate(encoded["input_ids"])]
        if train:
            for feature, record in zip(features, records):
                feature["labels"] = index[record["label"]]
        return features

    def decode(self, records, features, outputs):
        best = np.asarray(outputs).argmax(axis=-1)
        predictions = [""] * len(records)
        for feature, label_id in zip(features, best):
            predictions[feature["example"]] = self.labels[int(label_id)]
        return predictions

    def gold(self, records):
        return [r["label"] for r in records]

    def write(self, path, payload):
        predfiles.write_labels(path, payload)
