"""Masked language modelling on plain text lines (the multilingual MLM of X-STILTs §1b, jiant's `mlm_simple`).

Records are {"id", "text"}: one line of a monolingual corpus. Each line is one example, truncated to
`max_length` subwords (special tokens included), as jiant's `mlm_simple` does: no packing of lines into
full-length sequences, so a feature maps to its record and short lines cost only their own length (batches
are padded to their longest feature).

Masking follows BERT/RoBERTa: every non-special subword is selected with probability `mask_probability`
(default 0.15); a selected subword becomes <mask> 80% of the time, a random non-special token 10% and stays
itself 10%; `labels` hold the original id at selected positions and -100 elsewhere. Special tokens (<s>,
</s>, and any <mask> or <pad> written literally in the text) are never selected. A line with no selected
subword gets its one best candidate selected, so every feature contributes to the loss and a batch of short
lines never has an empty (NaN) loss. Masks are drawn once, when features are made (BERT's static masking,
not RoBERTa's per-epoch dynamic masking), from a counter-based hash of (seed, record id, subword position):
the same records give the same masks whatever their order, subset or batch, so a resumed run sees exactly
the features of the interrupted one. `seed` is a task setting (default 0).

The vocabulary-sized output layer is tied to the encoder's input embeddings (xstilts.model's "mlm" head),
so `num_outputs` is None: the size is the encoder's, known once it is loaded. mT5 has no mask token (it was
pretrained with span corruption): its first sentinel, <extra_id_0>, masks instead.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import Family, RecordError

MASK_FRACTION = 0.8  # of the selected subwords: replaced by <mask>
RANDOM_FRACTION = 0.1  # replaced by a random token; the remaining 0.1 keep their own id

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class MaskedLM(Family):
    name: ClassVar[str] = "masked_lm"
    head: ClassVar[str] = "mlm"
    required_fields: ClassVar[tuple[str, ...]] = ("id", "text")
    gold_fields: ClassVar[tuple[str, ...]] = ()
    untranslatable_reason: ClassVar[str | None] = (
        "masked-LM data is monolingual text that exists in every language; there is nothing to translate")

    def num_outputs(self) -> None:
        """None: the output layer is the encoder's (tied) input embedding matrix, sized by xstilts.model."""
        return None

    def check_record(self, record: dict, where: str) -> None:
        super().check_record(record, where)
        if not isinstance(record["text"], str) or not record["text"].strip():
            raise RecordError(f"{where}: masked-LM record has no text")

    def featurize(self, records, tokenizer, settings, train):
        """One feature per record with at least one maskable subword: `input_ids` (masked when `train`),
        `labels` (when `train`) and `example`. Settings: `max_length`, optional `mask_probability` and `seed`."""
        mask_id = mask_token_id(tokenizer)
        probability = settings.get("mask_probability", 0.15)
        if not 0 < probability < 1:
            raise ValueError(f"mask_probability must be between 0 and 1, not {probability}")
        encoded = tokenizer([r["text"] for r in records], truncation=True,
                            max_length=settings["max_length"])["input_ids"] if records else []
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        ids = np.fromiter(itertools.chain.from_iterable(encoded), dtype=np.int64, count=int(lengths.sum()))
        starts = np.cumsum(lengths) - lengths
        special = np.array(sorted(set(tokenizer.all_special_ids)), dtype=np.int64)
        maskable = ~np.isin(ids, special)
        if not train:
            return [{"input_ids": ids[s : s + n].astype(np.int32), "example": i}
                    for i, (s, n) in enumerate(zip(starts, lengths)) if maskable[s : s + n].any()]

        keys = np.repeat(np.array([_record_key(r["id"]) for r in records], dtype=np.uint64), lengths)
        positions = (np.arange(len(ids)) - np.repeat(starts, lengths)).astype(np.uint64)
        seed = int(settings.get("seed", 0))
        select, kind, pick = (_uniform(seed, stream, keys, positions) for stream in range(3))
        selected = maskable & (select < probability)
        candidates = np.setdiff1d(np.arange(len(tokenizer)), special)
        replaced = ids.copy()
        replaced[selected & (kind < MASK_FRACTION)] = mask_id
        randomized = selected & (kind >= MASK_FRACTION) & (kind < MASK_FRACTION + RANDOM_FRACTION)
        replaced[randomized] = candidates[(pick[randomized] * len(candidates)).astype(np.int64)]

        features = []
        for example, (start, n) in enumerate(zip(starts, lengths)):
            span = slice(start, start + n)
            if not maskable[span].any():
                continue  # nothing but special tokens (an empty line): nothing to predict
            chosen = selected[span].copy()
            inputs = replaced[span].copy()
            if not chosen.any():  # the lowest draw among the maskable positions is selected, as <mask>
                best = int(np.argmin(np.where(maskable[span], select[span], np.inf)))
                chosen[best] = True
                inputs[best] = mask_id
            labels = np.where(chosen, ids[span], -100)
            features.append({"input_ids": inputs.astype(np.int32), "labels": labels.astype(np.int32),
                             "example": example})
        return features


# T5-family vocabularies (mT5) have no <mask>: their pretraining replaces dropped spans by sentinels, the first
# of which stands in for <mask> here (an encoder-side MLM objective; the head starts fresh, mT5 has no MLM head)
T5_SENTINEL = "<extra_id_0>"


def mask_token_id(tokenizer: Any) -> int:
    """The tokenizer's <mask> id, or mT5's first sentinel; a clear error for tokenizers with neither."""
    if tokenizer.mask_token_id is not None:
        return int(tokenizer.mask_token_id)
    sentinel = tokenizer.convert_tokens_to_ids(T5_SENTINEL)
    if sentinel is not None and sentinel != tokenizer.unk_token_id:
        return int(sentinel)
    raise ValueError(
        f"tokenizer {getattr(tokenizer, 'name_or_path', '') or type(tokenizer).__name__} has no mask token and no "
        f"{T5_SENTINEL} sentinel, so the MLM arm cannot mask its text; leave the masked-LM tasks (cc100) out of "
        f"this model's arms")


def _record_key(record_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(str(record_id).encode(), digest_size=8).digest(), "little")


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: a bijection of uint64 that scrambles every input bit into every output bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uniform(seed: int, stream: int, keys: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) draws that depend only on (seed, stream, record key, position): a counter-based
    generator, so masks do not depend on which other records are featurized with a record, or in what order."""
    with np.errstate(over="ignore"):
        base = _mix(np.uint64((seed * 3 + stream) % 2**64) * _GOLDEN + _GOLDEN)
        x = _mix(_mix(keys ^ base) + positions * _GOLDEN)
    return (x >> np.uint64(11)).astype(np.float64) * 2.0**-53
