"""Sentence retrieval without fine-tuning (Tatoeba; BUCC mining): the encoder's pooled hidden states of one
layer are compared by cosine similarity.

Records carry a side: "src" (the non-English sentence, with its gold English id) or "tgt" (English).

Mode "nearest" (Tatoeba, the default): predictions are, for each English sentence, the 0-based index of the
nearest non-English sentence, one per line, as XTREME's run_retrieval.py writes them
(`similarity_search(x=src, y=tgt)` indexes the non-English embeddings and queries them with the English ones;
jiant's TatoebaEvaluationScheme does the same).

Mode "mining" (BUCC 2018): records also carry `part` ("dev" or "test") and ids `"<part>:<BUCC id>"`.
Candidates are mined with the ratio margin (k=4, both directions, `retrieval='max'`, as XTREME's
`mine_bitext`), the threshold maximising F1 on the dev gold is chosen (`bucc_optimize`) and applied to the
test candidates (`bucc_extract`), as xtreme #60 prescribes. Predictions and gold are `src_id<TAB>en_id` lines
of BUCC ids (the part removed), scored by `metrics.bucc_f1`. A split with only the dev part is tuned and
predicted on dev.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import predfiles
from ..metrics import bucc_f1
from ..retrieval import apply_threshold, best_threshold, mine_candidates, tatoeba_predictions
from . import Family, RecordError

log = logging.getLogger(__name__)

MODES = ("nearest", "mining")
PARTS = ("dev", "test")


@dataclass(frozen=True)
class Retrieval(Family):
    mode: str = "nearest"
    neighbourhood: int = 4  # k of the margin (mining mode); XTREME's mine_bitext default

    name: ClassVar[str] = "retrieval"
    head: ClassVar[None] = None
    prediction_suffix: ClassVar[str] = "tsv"
    gold_fields: ClassVar[tuple[str, ...]] = ("gold",)
    required_fields: ClassVar[tuple[str, ...]] = ("id", "side", "text")

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"retrieval mode must be one of {', '.join(MODES)}, not {self.mode!r}")

    @property
    def file_kind(self) -> str:  # type: ignore[override]
        return "pairs" if self.mode == "mining" else "labels"

    def num_outputs(self) -> int:
        return 0

    def check_record(self, record: dict, where: str) -> None:
        super().check_record(record, where)
        if record["side"] not in ("src", "tgt"):
            raise RecordError(f"{where}: side must be src or tgt, not {record['side']!r}")
        if self.mode == "mining":
            part = record.get("part")
            if part not in PARTS:
                raise RecordError(f"{where}: mining record needs part dev or test, not {part!r}")
            if not str(record["id"]).startswith(f"{part}:"):
                raise RecordError(f"{where}: mining record id must start with '{part}:'")

    def featurize(self, records, tokenizer, settings, train):
        encoded = tokenizer([r["text"] for r in records], truncation=True, max_length=settings["max_length"])
        return [{"input_ids": ids, "example": i} for i, ids in enumerate(encoded["input_ids"])]

    def decode(self, records, features, outputs):
        """`outputs` holds one sentence embedding per feature (= per record)."""
        embeddings = np.asarray(outputs, dtype=np.float32)
        if len(embeddings) != len(records):
            raise RecordError(f"{len(embeddings)} embeddings for {len(records)} records")
        if self.mode == "mining":
            return self._mine(records, embeddings)
        src = [i for i, r in enumerate(records) if r["side"] == "src"]
        tgt = [i for i, r in enumerate(records) if r["side"] == "tgt"]
        nearest = tatoeba_predictions(embeddings[tgt], embeddings[src])
        return [str(int(i)) for i in nearest]

    def gold(self, records):
        if self.mode == "mining":
            part = _predicted_part(records)
            return _gold_pairs([r for r in records if r["part"] == part])
        # For each English sentence, the index of the non-English sentence whose gold it is.
        src_index = {r["gold"]: i for i, r in enumerate(r for r in records if r["side"] == "src")}
        missing = [r["id"] for r in records if r["side"] == "tgt" and r["id"] not in src_index]
        if missing:
            raise RecordError(f"no src sentence has gold {', '.join(missing[:5])}")
        return [str(src_index[r["id"]]) for r in records if r["side"] == "tgt"]

    def write(self, path, payload):
        if self.mode == "mining":
            predfiles.write_pairs(path, payload)
        else:
            predfiles.write_labels(path, payload)

    def without_gold(self, records: list[dict]) -> list[dict]:
        """Mining keeps the dev part's gold: the threshold is tuned on it (xtreme #60); the test gold goes."""
        if self.mode != "mining":
            return super().without_gold(records)
        return [r if r.get("part") == "dev" else {k: v for k, v in r.items() if k != "gold"} for r in records]

    # -- mining ---------------------------------------------------------------------------------------------

    def _mine(self, records: list[dict], embeddings: np.ndarray) -> list[tuple[str, str]]:
        """(src, en) BUCC id pairs of the predicted part, with the threshold tuned on the dev part."""
        if not any(r["part"] == "dev" for r in records):
            raise RecordError("BUCC mining needs the dev part to tune the threshold (xtreme #60)")
        dev = self._candidates(records, embeddings, "dev")
        dev_gold = _gold_pairs([r for r in records if r["part"] == "dev"])
        threshold = best_threshold(dev, dev_gold)
        dev_scores = bucc_f1(["\t".join(p) for p in dev_gold],
                             ["\t".join(p) for p in apply_threshold(dev, threshold)])
        log.info("BUCC threshold %.6f tuned on dev (%d candidates, %d gold pairs): "
                 "precision %.2f, recall %.2f, F1 %.2f", threshold, len(dev), len(dev_gold),
                 dev_scores["precision"], dev_scores["recall"], dev_scores["f1"])
        part = _predicted_part(records)
        candidates = dev if part == "dev" else self._candidates(records, embeddings, part)
        pairs = apply_threshold(candidates, threshold)
        log.info("BUCC %s: %d of %d candidates kept", part, len(pairs), len(candidates))
        return pairs

    def _candidates(self, records: list[dict], embeddings: np.ndarray, part: str):
        rows = {side: [i for i, r in enumerate(records) if r["part"] == part and r["side"] == side]
                for side in ("src", "tgt")}
        if not rows["src"] or not rows["tgt"]:
            raise RecordError(f"BUCC {part} part needs sentences on both sides")
        ids = {side: [_bucc_id(records[i]) for i in rows[side]] for side in rows}
        texts = {side: [records[i]["text"] for i in rows[side]] for side in rows}
        # with the texts, repeated sentences are mined once and unmappable ones dropped (text_load_unify)
        return mine_candidates(embeddings[rows["src"]], embeddings[rows["tgt"]], ids["src"], ids["tgt"],
                               k=self.neighbourhood, src_texts=texts["src"], tgt_texts=texts["tgt"])


def _bucc_id(record: dict) -> str:
    return record["id"].removeprefix(f"{record['part']}:")


def _predicted_part(records: list[dict]) -> str:
    """The part a split is predicted on: test if it has one, else dev."""
    return "test" if any(r["part"] == "test" for r in records) else "dev"


def _gold_pairs(records: list[dict]) -> list[tuple[str, str]]:
    """(src, en) BUCC id pairs of the src records with a gold English sentence."""
    tgt = {r["id"] for r in records if r["side"] == "tgt"}
    pairs = []
    for r in records:
        if r["side"] == "src" and r.get("gold") is not None:
            if r["gold"] not in tgt:
                raise RecordError(f"{r['id']}: gold {r['gold']} is not an English sentence of part {r['part']}")
            pairs.append((_bucc_id(r), r["gold"].removeprefix(f"{r['part']}:")))
    return pairs
