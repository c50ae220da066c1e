"""Token tagging (UD-POS, PAN-X NER; CCG supertagging as an intermediate task).

Words are tokenized one by one, as XTREME does, and only a word's first subword carries its tag. Sentences
longer than the subword limit are split into consecutive chunks and their predictions are concatenated back
(XTREME's *_tokenize_preprocess + .idx merge, xtreme #25), never truncated (jiant #1169 truncated them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import predfiles
from . import Family, RecordError


@dataclass(frozen=True)
class Tagging(Family):
    labels: tuple[str, ...]

    name: ClassVar[str] = "tagging"
    head: ClassVar[str] = "token"
    prediction_suffix: ClassVar[str] = "tsv"
    file_kind: ClassVar[str] = "tags"
    gold_fields: ClassVar[tuple[str, ...]] = ("tags",)
    required_fields: ClassVar[tuple[str, ...]] = ("id", "tokens", "tags")
    untranslatable_reason: ClassVar[str | None] = (
        "its labels are per token (CCG supertags encode the English syntax of each word); translation reorders, "
        "merges and splits words, so no tag sequence of the translation is defined")

    def num_outputs(self) -> int:
        return len(self.labels)

    def check_record(self, record: dict, where: str) -> None:
        super().check_record(record, where)
        if len(record["tokens"]) != len(record["tags"]):
            raise RecordError(f"{where}: {len(record['tokens'])} tokens but {len(record['tags'])} tags")
        if not record["tokens"]:
            raise RecordError(f"{where}: empty sentence")
        unknown = sorted(set(record["tags"]) - set(self.labels))
        if unknown:
            raise RecordError(f"{where}: unknown tags {', '.join(unknown)} (known: {', '.join(self.labels)})")

    def featurize(self, records, tokenizer, settings, train):
        index = {label: i for i, label in enumerate(self.labels)}
        words = [w for r in records for w in r["tokens"]]
        pieces = tokenizer(words, add_special_tokens=False)["input_ids"] if words else []
        prefix, suffix = _special_tokens(tokenizer)
        budget = settings["max_length"] - len(prefix) - len(suffix)
        features, cursor = [], 0
        for example, record in enumerate(records):
            word_pieces = []
            for ids in pieces[cursor : cursor + len(record["tokens"])]:
                # a word that tokenizes to nothing still needs a position for its tag (XTREME uses unk)
                word_pieces.append((ids or [tokenizer.unk_token_id])[:budget])
            cursor += len(record["tokens"])
            for start, stop in _chunks([len(p) for p in word_pieces], budget):
                input_ids, positions = list(prefix), []
                for ids in word_pieces[start:stop]:
                    positions.append(len(input_ids))
                    input_ids.extend(ids)
                input_ids.extend(suffix)
                feature = {"input_ids": input_ids, "example": example, "word_positions": positions}
                if train:
                    labels = [-100] * len(input_ids)
                    for position, tag in zip(positions, record["tags"][start:stop]):
                        labels[position] = index[tag]
                    feature["labels"] = labels
                features.append(feature)
        return features

    def decode(self, records, features, outputs):
        tags: list[list[str]] = [[] for _ in records]
        for feature, logits in zip(features, outputs):
            best = np.asarray(logits)[feature["word_positions"]].argmax(axis=-1)
            tags[feature["example"]].extend(self.labels[int(i)] for i in best)
        return tags

    def gold(self, records):
        return [list(r["tags"]) for r in records]

    def write(self, path, payload):
        predfiles.write_tags(path, payload)


def _special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after a single sequence: <s> ... </s> for XLM-R, ... </s> for mT5."""
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    start = next(i for i in range(len(full)) if full[i : i + len(plain)] == plain)
    return full[:start], full[start + len(plain) :]


def _chunks(lengths: list[int], budget: int) -> list[tuple[int, int]]:
    """Split words (given their subword counts) into consecutive [start, stop) runs of at most `budget`
    subwords each."""
    spans, start, used = [], 0, 0
    for i, n in enumerate(lengths):
        if used + n > budget and i > start:
            spans.append((start, i))
            start, used = i, 0
        used += n
    spans.append((start, len(lengths)))
    return spans
