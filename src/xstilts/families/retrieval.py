"""Sentence retrieval without fine-tuning (Tatoeba; BUCC mining): the encoder's pooled hidden states of one
layer are compared by cosine similarity.

Records carry a side: "src" (the non-English sentence, with its gold English id) or "tgt" (English).
Tatoeba predictions are, for each English sentence, the 0-based index of the nearest non-English sentence, one
per line, as XTREME's run_retrieval.py writes them (`similarity_search(x=src, y=tgt)` indexes the non-English
embeddings and queries them with the English ones; jiant's TatoebaEvaluationScheme does the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import predfiles
from ..retrieval import tatoeba_predictions
from . import Family, RecordError


@dataclass(frozen=True)
class Retrieval(Family):
    name: ClassVar[str] = "retrieval"
    head: ClassVar[None] = None
    prediction_suffix: ClassVar[str] = "tsv"
    file_kind: ClassVar[str] = "labels"
    required_fields: ClassVar[tuple[str, ...]] = ("id", "side", "text")

    def num_outputs(self) -> int:
        return 0

    def check_record(self, record: dict, where: str) -> None:
        super().check_record(record, where)
        if record["side"] not in ("src", "tgt"):
            raise RecordError(f"{where}: side must be src or tgt, not {record['side']!r}")

    def featurize(self, records, tokenizer, settings, train):
        encoded = tokenizer([r["text"] for r in records], truncation=True, max_length=settings["max_length"])
        return [{"input_ids": ids, "example": i} for i, ids in enumerate(encoded["input_ids"])]

    def decode(self, records, features, outputs):
        """`outputs` holds one sentence embedding per feature (= per record)."""
        embeddings = np.asarray(outputs, dtype=np.float32)
        src = [i for i, r in enumerate(records) if r["side"] == "src"]
        tgt = [i for i, r in enumerate(records) if r["side"] == "tgt"]
        nearest = tatoeba_predictions(embeddings[tgt], embeddings[src])
        return [str(int(i)) for i in nearest]

    def gold(self, records):
        """For each English sentence, the index of the non-English sentence whose gold it is."""
        src_index = {r["gold"]: i for i, r in enumerate(r for r in records if r["side"] == "src")}
        missing = [r["id"] for r in records if r["side"] == "tgt" and r["id"] not in src_index]
        if missing:
            raise RecordError(f"no src sentence has gold {', '.join(missing[:5])}")
        return [str(src_index[r["id"]]) for r in records if r["side"] == "tgt"]

    def write(self, path, payload):
        predfiles.write_labels(path, payload)
