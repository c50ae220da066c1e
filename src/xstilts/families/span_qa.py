"""Extractive span QA (XQuAD, MLQA, TyDiQA-GoldP; SQuAD as an intermediate task).

Contexts longer than the window are split into overlapping windows (doc stride); training windows that do
not contain the answer point at <s>, as in BERT's and XTREME's SQuAD feature conversion. Decoding uses the
numpy-only n-best search in xstilts.qa_postprocess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .. import predfiles
from ..qa_postprocess import postprocess_qa_predictions
from . import Family, RecordError


@dataclass(frozen=True)
class SpanQA(Family):
    doc_stride: int = 128
    n_best_size: int = 20
    max_answer_length: int = 30

    name: ClassVar[str] = "span_qa"
    head: ClassVar[str] = "span"
    prediction_suffix: ClassVar[str] = "json"
    file_kind: ClassVar[str] = "qa"
    gold_fields: ClassVar[tuple[str, ...]] = ("answers",)
    required_fields: ClassVar[tuple[str, ...]] = ("id", "context", "question", "answers")

    def num_outputs(self) -> int:
        return 2  # start and end logits

    def check_record(self, record: dict, where: str) -> None:
        super().check_record(record, where)
        for answer in record["answers"]:
            start, text = answer["answer_start"], answer["text"]
            if record["context"][start : start + len(text)] != text:
                raise RecordError(f"{where}: answer {text!r} is not at character {start} of the context")

    def featurize(self, records, tokenizer, settings, train):
        stride = settings.get("doc_stride", self.doc_stride)
        if stride >= settings["max_length"] // 2:
            raise ValueError(f"doc_stride {stride} must be under half of max_length {settings['max_length']}")
        encoded = tokenizer(
            [r["question"].lstrip() for r in records],
            [r["context"] for r in records],
            truncation="only_second",
            max_length=settings["max_length"],
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        features = []
        for i, ids in enumerate(encoded["input_ids"]):
            example = encoded["overflow_to_sample_mapping"][i]
            in_context = [s == 1 for s in encoded.sequence_ids(i)]
            offsets = [tuple(o) if keep else None for o, keep in zip(encoded["offset_mapping"][i], in_context)]
            feature = {"input_ids": ids, "example": example, "offsets": offsets}
            if train:
                feature["start_positions"], feature["end_positions"] = _answer_positions(
                    records[example]["answers"], offsets
                )
            features.append(feature)
        return features

    def decode(self, records, features, outputs):
        start_logits, end_logits = outputs
        return postprocess_qa_predictions(
            [{"id": r["id"], "context": r["context"]} for r in records],
            [{"example_id": records[f["example"]]["id"], "offset_mapping": f["offsets"]} for f in features],
            start_logits,
            end_logits,
            n_best_size=self.n_best_size,
            max_answer_length=self.max_answer_length,
        )

    def gold(self, records):
        """Gold answers as a SQuAD v1.1 `data` list (one article per title), the format evaluate.py reads."""
        articles: dict[str, list] = {}
        for r in records:
            qa = {"id": r["id"], "question": r["question"], "answers": r["answers"]}
            articles.setdefault(r.get("title", ""), []).append({"context": r["context"], "qas": [qa]})
        return [{"title": title, "paragraphs": paragraphs} for title, paragraphs in articles.items()]

    def write(self, path, payload):
        if isinstance(payload, dict):
            predfiles.write_qa_predictions(path, payload)
        else:
            predfiles.write_squad_gold(path, payload)


def _answer_positions(answers: list[dict], offsets: list) -> tuple[int, int]:
    """Token positions of the first answer inside this window, or (0, 0) (<s>) when it is not fully inside."""
    if not answers:
        return 0, 0
    start_char = answers[0]["answer_start"]
    end_char = start_char + len(answers[0]["text"])
    context = [i for i, o in enumerate(offsets) if o is not None]
    if not context or offsets[context[0]][0] > start_char or offsets[context[-1]][1] < end_char:
        return 0, 0
    start = next(i for i in context if offsets[i][1] > start_char)
    end = next(i for i in reversed(context) if offsets[i][0] < end_char)
    return start, end
