"""Keeping a QA answer span through machine translation: mark-then-translate, with a fuzzy-match fallback.

Mark-then-translate (EasyProject; Chen et al., Findings of ACL 2023, arXiv 2211.15613): put markers around the
answer in the English context, translate the marked context, read the answer span off the markers and remove
them. The markers are square brackets, as in EasyProject: MT models copy them (they are frequent, script-neutral
punctuation in their training data), they are single characters that tokenizers keep as pieces of their own,
and they rarely occur in the prose of QA contexts. So that a bracket in the output always is a marker, brackets
already in the source text are escaped to parentheses first (`escape`; the same length, so character offsets do
not move).

What the translation does to the markers, and what `project` then does:
  one pair, in order, around a non-empty span   the span ("markers")
  doubled ("[[x]]", "[ [x] ]")                    collapsed to one pair ("markers")
  several pairs around the same text ("[x] ... [x]")   the first ("markers")
  split: several pairs around different text ("[New] York [City]") one span from the first "[" to the last
                                                  "]" when that is the best match for the separately
                                                  translated answer, or, without one, when the pairs are at
                                                  most a few words apart within one sentence ("markers")
  dropped, unbalanced, reversed ("x] y [") or around nothing   the fallback
The fallback ("fuzzy") looks for the separately translated answer in the translated context with the markers
removed: a case-insensitive exact match, else the most similar stretch of whole words (characters for scripts
written without spaces) by difflib's ratio, if at least `threshold`. Otherwise the example is dropped (None).
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

OPEN, CLOSE = "[", "]"
_ESCAPE = str.maketrans({OPEN: "(", CLOSE: ")"})
# characters stripped from the edges of a projected answer (besides whitespace): a comma or colon the
# translation put inside the markers is not part of an answer
EDGE_PUNCTUATION = ",;:"
# pairs further apart than this many words (or across a sentence end) are not one split span
SPLIT_GAP_WORDS = 3
DEFAULT_THRESHOLD = 0.8
# scripts written without spaces between words: the fuzzy match compares them character by character
_NO_SPACE_CHARS = (r"\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
                   r"\uf900-\ufaff\uac00-\ud7af")
_UNITS = re.compile(rf"[{_NO_SPACE_CHARS}]|[^\W{_NO_SPACE_CHARS}]+|[^\w\s]", re.UNICODE)
_NO_SPACE = re.compile(rf"[{_NO_SPACE_CHARS}]")
_SENTENCE_END = re.compile(r"[.!?。！？]\s")


def escape(text: str) -> str:
    """`text` with its square brackets turned into parentheses (same length), so brackets are only markers."""
    return text.translate(_ESCAPE)


def mark(context: str, answer_start: int, answer_text: str) -> str:
    """The context with its brackets escaped and the answer between markers: "... [answer] ..."."""
    if not answer_text.strip():
        raise ValueError("cannot mark an empty answer")
    end = answer_start + len(answer_text)
    if answer_start < 0 or context[answer_start:end] != answer_text:
        raise ValueError(f"answer {answer_text!r} is not at character {answer_start} of the context")
    escaped = escape(context)
    return escaped[:answer_start] + OPEN + escaped[answer_start:end] + CLOSE + escaped[end:]


def project(translated_marked: str, translated_answer: str | None = None,
            threshold: float = DEFAULT_THRESHOLD) -> tuple[str, int | None, str | None, str | None]:
    """(clean context, answer start, answer text, how) from a translated marked context and, for the
    fallback, the answer translated on its own. `how` is "markers", "fuzzy", or None (dropped: start and text are
    None). The clean context has no markers; context[start:start + len(text)] == text."""
    clean, spans = _remove_markers(translated_marked)
    answer = strip_markers(translated_answer) if translated_answer else ""
    span = _choose_span(clean, spans, answer, threshold)
    if span is not None:
        start, end = _trim(clean, *span)
        if end > start:
            return clean, start, clean[start:end], "markers"
    if answer.strip():
        found = fuzzy_find(clean, answer, threshold)
        if found is not None:
            start, end = _trim(clean, *found)
            if end > start:
                return clean, start, clean[start:end], "fuzzy"
    return clean, None, None, None


def strip_markers(text: str) -> str:
    """`text` without markers, whitespace normalized."""
    return " ".join(text.replace(OPEN, " ").replace(CLOSE, " ").split())


def _remove_markers(text: str) -> tuple[str, list[tuple[int, int]] | None]:
    """The text without markers (and without the extra space a removed marker leaves), and the spans of the
    well-formed marker pairs in it, or None when the markers do not pair up (dropped, unbalanced, reversed,
    nested differently)."""
    out: list[str] = []
    events: list[tuple[str, int]] = []  # (marker, position in the clean text)
    i = 0
    while i < len(text):
        char = text[i]
        if char in (OPEN, CLOSE):
            events.append((char, len(out)))
            i += 1
            if (not out or out[-1].isspace()) and i < len(text) and text[i].isspace():
                while i < len(text) and text[i].isspace():
                    i += 1
            continue
        out.append(char)
        i += 1
    clean = "".join(out)
    if text and not text[-1].isspace():  # "... [x ]": the space before a final marker goes too
        clean = clean.rstrip()
        events = [(kind, min(position, len(clean))) for kind, position in events]
    # runs of the same marker with nothing but whitespace between them ("[[", "] ]") count once
    collapsed: list[tuple[str, int]] = []
    for kind, position in events:
        if collapsed and collapsed[-1][0] == kind and not clean[collapsed[-1][1]:position].strip():
            if kind == CLOSE:
                collapsed[-1] = (kind, position)
            continue
        collapsed.append((kind, position))
    if not collapsed:
        return clean, None
    kinds = [kind for kind, _ in collapsed]
    if len(kinds) % 2 or any(kinds[j] != (OPEN if j % 2 == 0 else CLOSE) for j in range(len(kinds))):
        return clean, None
    spans = [(collapsed[j][1], collapsed[j + 1][1]) for j in range(0, len(collapsed), 2)]
    return clean, spans


def _choose_span(clean: str, spans: list[tuple[int, int]] | None, answer: str,
                 threshold: float) -> tuple[int, int] | None:
    if not spans:
        return None
    spans = [s for s in spans if clean[s[0]:s[1]].strip()]
    if not spans:
        return None
    texts = {_normalize(clean[s:e]) for s, e in spans}
    if len(texts) == 1:
        return spans[0]
    merged = (spans[0][0], spans[-1][1])
    if answer:
        candidates = spans + [merged]
        scores = [_similarity(clean[s:e], answer) for s, e in candidates]
        best = max(range(len(candidates)), key=scores.__getitem__)  # the first of the best
        if scores[best] >= threshold:
            return candidates[best]
    gaps = [clean[spans[j][1]:spans[j + 1][0]] for j in range(len(spans) - 1)]
    if all(len(gap.split()) <= SPLIT_GAP_WORDS and not _SENTENCE_END.search(gap + " ") for gap in gaps):
        return merged
    return None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in EDGE_PUNCTUATION):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in EDGE_PUNCTUATION):
        end -= 1
    return start, end


def _fold(char: str) -> str:
    lower = char.lower()
    return lower if len(lower) == 1 else char


def _normalize(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", "".join(map(_fold, text))).split())


def _similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, _normalize(a), _normalize(b), autojunk=False).ratio()


def _word_edge(text: str, i: int) -> bool:
    """Whether position `i` of `text` is not inside a word of a script written with spaces."""
    if i == 0 or i == len(text):
        return True
    before, after = text[i - 1], text[i]
    if not (before.isalnum() and after.isalnum()):
        return True
    return bool(_NO_SPACE.match(before) or _NO_SPACE.match(after))


def fuzzy_find(text: str, answer: str, threshold: float = DEFAULT_THRESHOLD) -> tuple[int, int] | None:
    """(start, end) of the stretch of `text` most similar to `answer`: an exact case-insensitive match if there
    is one (the first), else whole units (words; single characters of scripts written without spaces) whose
    difflib ratio with the answer is highest and at least `threshold` (ties: the first)."""
    folded = "".join(map(_fold, text))
    target = _normalize(answer)
    if not target:
        return None
    for exact in re.finditer(r"\s+".join(map(re.escape, target.split())), folded):
        if _word_edge(text, exact.start()) and _word_edge(text, exact.end()):
            return exact.start(), exact.end()
    units = [(m.start(), m.end()) for m in _UNITS.finditer(text)]
    wanted = len(_UNITS.findall(answer))
    if not units or not wanted:
        return None
    best, best_score = None, threshold
    for first in range(len(units)):
        for count in range(max(1, wanted - 2), wanted + 3):
            last = first + count - 1
            if last >= len(units):
                break
            candidate = _normalize(text[units[first][0]:units[last][1]])
            matcher = SequenceMatcher(None, candidate, target, autojunk=False)
            if matcher.real_quick_ratio() < best_score or matcher.quick_ratio() < best_score:
                continue
            score = matcher.ratio()
            if score > best_score or (best is None and score >= best_score):
                best, best_score = (units[first][0], units[last][1]), score
    return best
