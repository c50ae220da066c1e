"""Which fields of a normalized record (xstilts.families) are machine-translated, and how the translated pieces
are put back into a record of the same family. Pure and torch-free.

  classification   text_a and text_b (text_b stays null for single sentences); the label is kept
  multiple_choice  context, question and each choice; the label (an index) is kept
  span_qa          the context with markers around the first answer (xstilts.translation.project), the question,
                   and the answer on its own (for the fuzzy fallback); the answer is then read off the markers.
                   Unanswerable questions (SQuAD v2.0, no answers) are translated without markers; of several
                   answers (evaluation data), only the first is kept.
  tagging, ...     not translatable: the family says why (`Family.untranslatable_reason`)

Every text is split into sentences (a language-agnostic rule: ., !, ? or their CJK forms, then a space and no
lower-case letter), and sentences longer than `max_chars` at clause or word boundaries, so no segment runs past
the MT model's length limit (NLLB: 200 subwords). A marker pair is never split: the sentences it spans stay one
segment. Segments are translated once however often they occur (SQuAD repeats each context for about five
questions, MNLI each premise for three hypotheses; only the marked sentence differs), and translated sentences
are joined with a space, or nothing for languages written without spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .project import CLOSE, OPEN, escape, mark, project

TRANSLATED_FAMILIES = ("classification", "multiple_choice", "span_qa")
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "yue"})
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|[。！？]+[”’」』）]*\s*")
_CLAUSE_END = re.compile(r"[,;:]\s+")

# why a record is dropped (keys of the stats' "dropped")
UNTRANSLATED = "empty_translation"  # a non-empty text came back empty
TOO_LONG = "segment_too_long"  # a segment ran past the model's length limit and was cut
NO_SPAN = "answer_not_found"  # neither the markers nor the fuzzy match gave the answer span


class UntranslatableError(ValueError):
    """A task whose family cannot be machine-translated."""


@dataclass
class RecordPlan:
    """One record's translation: its parts (field name -> source segments, in order)."""

    record: dict
    parts: dict[str, list[str]] = field(default_factory=dict)
    answer: bool = False  # span QA with an answer to project (parts "context", which is marked, and "answer")

    def segments(self) -> list[str]:
        return [s for part in self.parts.values() for s in part]


def check_translatable(family) -> None:
    if family.name not in TRANSLATED_FAMILIES:
        reason = getattr(family, "untranslatable_reason", None) or f"there is no translation rule for the " \
                                                                    f"{family.name} family"
        raise UntranslatableError(f"{family.name} data cannot be machine-translated: {reason}")


def joiner(lang: str) -> str:
    return "" if lang in NO_SPACE_LANGUAGES else " "


def group_key(family, record: dict) -> str:
    """Records sharing this text share most segments (a SQuAD context, an MNLI premise): selection keeps them
    together so they are translated in one job."""
    if family.name == "classification":
        return record["text_a"]
    return record.get("context") or record["id"]


def split_sentences(text: str, max_chars: int) -> list[str]:
    """`text` as segments of at most `max_chars` characters (where possible): sentences, with a marker pair
    never broken, and over-long sentences cut after a clause (,;:) or else between words."""
    pieces, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        following = text[end.end():end.end() + 1]
        if following and following.islower():
            continue  # "e.g. the", "3 p.m. on": not a sentence end
        pieces.append(text[start:end.end()])
        start = end.end()
    pieces.append(text[start:])
    sentences, pending = [], ""
    for piece in pieces:
        pending += piece
        if pending.count(OPEN) <= pending.count(CLOSE):
            sentences.append(pending)
            pending = ""
    if pending:
        sentences.append(pending)
    out = []
    for sentence in sentences:
        out.extend(_cut(sentence.strip(), max_chars))
    return [s for s in out if s]


def _marked_region(text: str) -> tuple[int, int] | None:
    if OPEN in text and CLOSE in text[text.index(OPEN):]:
        return text.index(OPEN), text.index(CLOSE, text.index(OPEN)) + 1
    return None


def _cut(sentence: str, max_chars: int) -> list[str]:
    out = []
    while len(sentence) > max_chars:
        region = _marked_region(sentence)
        inside = (lambda p: region[0] < p < region[1]) if region else (lambda p: False)
        cut = None
        for pattern in (_CLAUSE_END, re.compile(r"\s+")):
            ends = [m.end() for m in pattern.finditer(sentence) if 0 < m.end() <= max_chars and not inside(m.end())]
            if ends:
                cut = ends[-1]
                break
        if cut is None:  # no boundary in reach: the first one after the limit (or the marked span)
            later = [m.end() for m in re.finditer(r"\s+", sentence) if m.end() > max_chars and not inside(m.end())]
            if not later:
                break
            cut = later[0]
        out.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    out.append(sentence)
    return out


def plan_record(family, record: dict, max_chars: int) -> RecordPlan:
    """The segments to translate for one record of `family` (see the module docstring)."""
    check_translatable(family)
    plan = RecordPlan(record)
    if family.name == "classification":
        plan.parts["text_a"] = split_sentences(record["text_a"], max_chars)
        if record.get("text_b"):
            plan.parts["text_b"] = split_sentences(record["text_b"], max_chars)
    elif family.name == "multiple_choice":
        plan.parts["context"] = split_sentences(record["context"], max_chars)
        plan.parts["question"] = split_sentences(record["question"], max_chars)
        for i, choice in enumerate(record["choices"]):
            plan.parts[f"choice{i}"] = split_sentences(choice, max_chars)
    else:  # span_qa
        answers = record["answers"]
        if answers:
            first = answers[0]
            try:
                marked = mark(record["context"], first["answer_start"], first["text"])
            except ValueError as e:
                raise ValueError(f"record {record['id']!r}: {e}") from None
            plan.parts["context"] = split_sentences(marked, max_chars)
            plan.parts["answer"] = [" ".join(escape(first["text"]).split())]
            plan.answer = True
        else:
            plan.parts["context"] = split_sentences(escape(record["context"]), max_chars)
        plan.parts["question"] = split_sentences(record["question"], max_chars)
    return plan


def assemble(family, plan: RecordPlan, translations: dict[str, str], lang: str,
             truncated: frozenset[str] | set[str] = frozenset(),
             threshold: float = 0.8) -> tuple[dict | None, str | None, str | None]:
    """(translated record, None, how) or (None, reason, how) for a dropped record. `how` is the span
    projection's ("markers", "fuzzy", or None when it failed) for span QA with an answer, else None. The record
    keeps every field it does not translate; its id gets "-<lang>"."""
    segments = plan.segments()
    if any(s in truncated for s in segments):
        return None, TOO_LONG, None
    if any(not translations[s].strip() for s in segments):
        return None, UNTRANSLATED, None
    glue = joiner(lang)
    text = {name: glue.join(translations[s].strip() for s in part) for name, part in plan.parts.items()}
    record = dict(plan.record, id=f"{plan.record['id']}-{lang}")
    how = None
    if family.name == "classification":
        record["text_a"] = text["text_a"]
        if "text_b" in text:
            record["text_b"] = text["text_b"]
    elif family.name == "multiple_choice":
        record["context"] = text["context"]
        record["question"] = text["question"]
        record["choices"] = [text[f"choice{i}"] for i in range(len(plan.record["choices"]))]
    else:
        record["question"] = text["question"]
        if plan.answer:
            context, start, answer, how = project(text["context"], text["answer"], threshold)
            if how is None:
                return None, NO_SPAN, None
            record["context"] = context
            record["answers"] = [{"text": answer, "answer_start": start}]
        else:
            record["context"] = text["context"]
    family.check_record(record, f"translated record {record['id']}")
    return record, None, how
