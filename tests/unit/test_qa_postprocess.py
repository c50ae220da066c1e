"""Tests for xstilts.qa_postprocess on hand-made logits."""

import numpy as np
import pytest

from xstilts.qa_postprocess import postprocess_qa_predictions

CONTEXT = "The quick brown fox jumps over the lazy dog"
# Character offsets of the nine words of CONTEXT.
WORDS = [(0, 3), (4, 9), (10, 15), (16, 19), (20, 25), (26, 30), (31, 34), (35, 39), (40, 43)]
LOW = -10.0


def feature(example_id, offsets):
    return {"example_id": example_id, "offset_mapping": offsets}


def logits(seq_len, peaks):
    """A row of LOW logits with the given {token: logit} peaks."""
    row = np.full(seq_len, LOW, dtype=np.float32)
    for token, value in peaks.items():
        row[token] = value
    return row


def decode(features, starts, ends, **kwargs):
    examples = [{"id": "q1", "context": CONTEXT}]
    return postprocess_qa_predictions(examples, features, np.stack(starts), np.stack(ends),
                                      **kwargs)["q1"]


def test_best_span_in_second_window():
    # Windows of a doc stride: [CLS] question [SEP] words... ; tokens 0-1 are outside the context.
    window_1 = [None, None] + WORDS[0:5]  # tokens 2..6 = words 0..4
    window_2 = [None, None] + WORDS[3:9]  # tokens 2..7 = words 3..8
    features = [feature("q1", window_1), feature("q1", window_2)]
    # Window 1: "quick" (token 3), score 2 + 2 = 4.  Window 2: "lazy dog" (tokens 6..7), 3 + 4 = 7.
    starts = [logits(8, {3: 2.0}), logits(8, {6: 3.0})]
    ends = [logits(8, {3: 2.0}), logits(8, {7: 4.0})]
    assert decode(features, starts, ends) == "lazy dog"


def test_tokens_without_offsets_are_skipped():
    offsets = [None, None] + WORDS[:4]  # logits are longer (8) than the offset list (6)
    # Highest start on a question token (1) and highest end past the offset list (7).
    starts = [logits(8, {1: 9.0, 3: 1.0})]
    ends = [logits(8, {7: 9.0, 4: 1.0})]
    assert decode([feature("q1", offsets)], starts, ends) == "quick brown"


def test_end_before_start_is_rejected():
    offsets = [None] + WORDS  # token t + 1 = word t
    # Best pair by score would be start 6 ("over") with end 2 ("quick"): invalid.
    starts = [logits(10, {6: 5.0, 1: 1.0})]
    ends = [logits(10, {2: 5.0, 7: 1.0})]
    # Valid pairs: 6-7 (5 + 1 = 6), 1-2 (1 + 5 = 6), 1-7 (2). Tie at 6: start 6 ranks first.
    assert decode([feature("q1", offsets)], starts, ends) == "over the"


def test_too_long_span_is_rejected():
    offsets = [None] + WORDS
    starts = [logits(10, {1: 5.0, 3: 4.0})]
    ends = [logits(10, {5: 5.0})]
    # 1..5 is 5 tokens (too long for 3); 3..5 is 3 tokens.
    assert decode([feature("q1", offsets)], starts, ends, max_answer_length=3) == "brown fox jumps"
    assert decode([feature("q1", offsets)], starts, ends, max_answer_length=5) == (
        "The quick brown fox jumps")


def test_single_token_answer_and_logit_ties():
    offsets = [None] + WORDS
    # Equal start logits on tokens 2 and 4, equal end logits on 2 and 4: ranked by lower index,
    # so the first valid pair in enumeration order is start 2 / end 2 ("quick"); 2..4 scores
    # the same but comes later.
    starts = [logits(10, {2: 1.0, 4: 1.0})]
    ends = [logits(10, {2: 1.0, 4: 1.0})]
    assert decode([feature("q1", offsets)], starts, ends) == "quick"


def test_tie_across_windows_keeps_the_earlier_window():
    offsets = [None] + WORDS
    starts = [logits(10, {8: 2.0}), logits(10, {1: 2.0})]
    ends = [logits(10, {9: 2.0}), logits(10, {1: 2.0})]
    assert decode([feature("q1", offsets), feature("q1", offsets)], starts, ends) == "lazy dog"


def test_unanswerable_gives_empty_string():
    offsets = [None, None] + WORDS[:3]
    # Every high start/end lies outside the context: with n_best_size=2 the valid positions
    # never make it into the candidate lists (Hugging Face semantics), so there is no answer.
    starts = [logits(6, {0: 9.0, 1: 8.0, 5: 7.0})]
    ends = [logits(6, {0: 9.0, 1: 8.0, 5: 7.0})]
    assert decode([feature("q1", offsets)], starts, ends, n_best_size=2) == ""
    assert decode([feature("q1", offsets)], starts, ends, n_best_size=3) == ""  # 5 > offsets
    # An example without any feature also gets "".
    examples = [{"id": "q1", "context": CONTEXT}, {"id": "q2", "context": "x"}]
    out = postprocess_qa_predictions(examples, [feature("q1", [None] + WORDS)],
                                     np.stack([logits(10, {1: 1.0})]),
                                     np.stack([logits(10, {1: 1.0})]))
    assert out == {"q1": "The", "q2": ""}


def test_token_is_max_context_filters_starts():
    offsets = [None] + WORDS
    starts = [logits(10, {1: 5.0, 3: 1.0})]
    ends = [logits(10, {4: 1.0})]
    with_mask = feature("q1", offsets) | {"token_is_max_context": {"1": False, "3": True}}
    assert decode([with_mask], starts, ends) == "brown fox"
    as_list = feature("q1", offsets) | {"token_is_max_context": [True] * 3 + [False] * 7}
    assert decode([as_list], starts, ends) == "The quick brown fox"


def test_several_examples_and_unknown_id():
    examples = [{"id": "a", "context": CONTEXT}, {"id": "b", "context": "hello world"}]
    features = [feature("b", [None, (0, 5), (6, 11)]), feature("a", [None] + WORDS[:2])]
    starts = np.stack([logits(4, {2: 1.0}), logits(4, {1: 1.0})])
    ends = np.stack([logits(4, {2: 1.0}), logits(4, {2: 1.0})])
    assert postprocess_qa_predictions(examples, features, starts, ends) == {
        "a": "The quick", "b": "world"}
    with pytest.raises(KeyError):
        postprocess_qa_predictions(examples, [feature("c", [None])], starts[:1], ends[:1])


def reference_decode(examples, features, starts, ends, n_best_size, max_answer_length):
    """Literal loop version of Hugging Face's utils_qa (v1), with a stable logit ranking."""
    answers = {}
    for example in examples:
        candidates = []
        for f, feat in enumerate(features):
            if feat["example_id"] != example["id"]:
                continue
            offsets = feat["offset_mapping"]
            for s in np.argsort(-starts[f], kind="stable")[:n_best_size]:
                for e in np.argsort(-ends[f], kind="stable")[:n_best_size]:
                    if s >= len(offsets) or e >= len(offsets):
                        continue
                    if offsets[s] is None or offsets[e] is None:
                        continue
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    candidates.append((starts[f][s] + ends[f][e], offsets[s][0], offsets[e][1]))
        candidates.sort(key=lambda c: -c[0])
        answers[example["id"]] = example["context"][candidates[0][1]:candidates[0][2]] \
            if candidates else ""
    return answers


def test_matches_reference_loop_on_random_logits():
    rng = np.random.default_rng(0)
    examples, features = [], []
    for i in range(40):
        context = " ".join(f"w{i}_{j}" for j in range(60))
        spans, pos = [], 0
        for word in context.split(" "):
            spans.append((pos, pos + len(word)))
            pos += len(word) + 1
        examples.append({"id": str(i), "context": context})
        for window_start in range(0, 60, 25):  # overlapping windows of 40 words
            window = spans[window_start:window_start + 40]
            features.append(feature(str(i), [None] * 5 + window))
    starts = rng.normal(size=(len(features), 50)).astype(np.float32)
    ends = rng.normal(size=(len(features), 50)).astype(np.float32)
    for n_best, max_len in [(20, 30), (5, 3), (50, 50)]:
        assert postprocess_qa_predictions(examples, features, starts, ends, n_best, max_len) == \
            reference_decode(examples, features, starts, ends, n_best, max_len)
