"""Mark-then-translate span projection on crafted translations: every way a translation can treat the markers
(kept, spaced, doubled, duplicated, split, moved, dropped, reversed, emptied), the fuzzy fallback, and the
sentence splitting that keeps a marked span in one segment."""

import pytest

from xstilts.translation.project import escape, fuzzy_find, mark, project
from xstilts.translation.records import split_sentences


def check(result, context, start, text, how):
    clean, got_start, got_text, got_how = result
    assert (clean, got_start, got_text, got_how) == (context, start, text, how)
    if how is not None:
        assert clean[got_start : got_start + len(got_text)] == got_text


# --- mark -----------------------------------------------------------------------------------------------------

def test_mark_puts_brackets_around_the_answer():
    context = "The tower was built in 1889 for the fair."
    assert mark(context, 23, "1889") == "The tower was built in [1889] for the fair."


def test_mark_escapes_brackets_already_in_the_text_without_moving_offsets():
    context = "Paris [the capital] has the tower [built 1889]."
    start = context.index("tower")
    assert escape(context) == "Paris (the capital) has the tower (built 1889)."
    assert mark(context, start, "tower") == "Paris (the capital) has the [tower] (built 1889)."


def test_mark_refuses_a_misplaced_or_empty_answer():
    with pytest.raises(ValueError, match="not at character 3"):
        mark("The tower", 3, "tower")
    with pytest.raises(ValueError, match="empty answer"):
        mark("The tower", 4, "")


# --- project: the markers -------------------------------------------------------------------------------------

def test_markers_kept():
    check(project("Der Turm wurde [1889] gebaut.", "1889"), "Der Turm wurde 1889 gebaut.", 15, "1889", "markers")


def test_markers_kept_without_a_separate_answer():
    check(project("Der Turm wurde [1889] gebaut."), "Der Turm wurde 1889 gebaut.", 15, "1889", "markers")


def test_markers_with_spaces_inside_and_at_the_edges():
    check(project("[ Gustave Eiffel ] baute den Turm ."), "Gustave Eiffel baute den Turm .", 0, "Gustave Eiffel",
          "markers")
    check(project("Den Turm baute [ Eiffel ]"), "Den Turm baute Eiffel", 15, "Eiffel", "markers")


def test_punctuation_pulled_inside_the_markers_is_trimmed():
    check(project("Er kam aus [Paris,] und blieb."), "Er kam aus Paris, und blieb.", 11, "Paris", "markers")


def test_doubled_markers_count_once():
    check(project("Der Turm wurde [[1889]] gebaut."), "Der Turm wurde 1889 gebaut.", 15, "1889", "markers")
    check(project("Der Turm wurde [ [1889] ] gebaut."), "Der Turm wurde 1889 gebaut.", 15, "1889", "markers")


def test_duplicated_pairs_around_the_same_text_give_the_first():
    check(project("[Eiffel] baute ihn, und [Eiffel] entwarf ihn."), "Eiffel baute ihn, und Eiffel entwarf ihn.", 0,
          "Eiffel", "markers")


def test_split_pair_is_merged_when_the_answer_says_so():
    context = "Die Polizei von New York City ermittelt."
    check(project("Die Polizei von [New] York [City] ermittelt.", "New York City"), context, 16, "New York City",
          "markers")


def test_split_pair_is_merged_without_an_answer_when_close_together():
    check(project("Die [New] York [City] Polizei"), "Die New York City Polizei", 4, "New York City", "markers")


def test_split_pair_across_a_sentence_is_not_merged_blindly():
    marked = "Der [Turm] steht hier. Er wurde von [Eiffel] gebaut."
    clean = "Der Turm steht hier. Er wurde von Eiffel gebaut."
    check(project(marked), clean, None, None, None)
    # with the answer translated on its own, the matching pair wins
    check(project(marked, "Eiffel"), clean, clean.index("Eiffel"), "Eiffel", "markers")


def test_moved_markers_are_trusted():
    """A pair that moved to other words is still a well-formed pair: mark-then-translate takes it (EasyProject
    does the same); only broken markers fall back."""
    check(project("[Der Turm] wurde 1889 gebaut.", "1889"), "Der Turm wurde 1889 gebaut.", 0, "Der Turm", "markers")


# --- project: the fallback ------------------------------------------------------------------------------------

def test_dropped_markers_fall_back_to_the_translated_answer():
    check(project("Der Turm wurde 1889 gebaut.", "1889"), "Der Turm wurde 1889 gebaut.", 15, "1889", "fuzzy")


def test_one_dropped_marker_falls_back():
    check(project("Der Turm wurde [1889 gebaut.", "1889"), "Der Turm wurde 1889 gebaut.", 15, "1889", "fuzzy")
    check(project("Der Turm wurde 1889] gebaut.", "1889"), "Der Turm wurde 1889 gebaut.", 15, "1889", "fuzzy")


def test_reversed_markers_fall_back():
    check(project("Der Turm] wurde 1889 [gebaut.", "1889"), "Der Turm wurde 1889 gebaut.", 15, "1889", "fuzzy")


def test_nested_pairs_fall_back():
    check(project("Der [Turm [von] Paris] steht.", "Turm von Paris"), "Der Turm von Paris steht.", 4,
          "Turm von Paris", "fuzzy")


def test_empty_span_falls_back_and_drops_without_a_match():
    check(project("Der Turm wurde [] 1889 gebaut.", "1889"), "Der Turm wurde 1889 gebaut.", 15, "1889", "fuzzy")
    check(project("Der Turm wurde [] gebaut.", "Paris"), "Der Turm wurde gebaut.", None, None, None)


def test_fuzzy_match_is_case_insensitive_and_approximate():
    check(project("der turm in paris", "Paris"), "der turm in paris", 12, "paris", "fuzzy")
    # an inflected form: the whole word, never part of one
    check(project("Die Spitze des Eiffelturms ist hoch.", "Eiffelturm"), "Die Spitze des Eiffelturms ist hoch.", 15,
          "Eiffelturms", "fuzzy")


def test_fuzzy_match_below_the_threshold_drops():
    check(project("Der Turm wurde gebaut.", "Kathedrale"), "Der Turm wurde gebaut.", None, None, None)
    clean, start, _, how = project("Der Turm wurde im Jahr 1889 gebaut.", "1898", threshold=0.9)
    assert (start, how) == (None, None)
    assert project("Der Turm wurde im Jahr 1889 gebaut.", "1898", threshold=0.7)[3] == "fuzzy"


def test_no_markers_and_no_answer_drops():
    check(project("Der Turm wurde gebaut.", None), "Der Turm wurde gebaut.", None, None, None)


def test_markers_in_the_separately_translated_answer_are_ignored():
    check(project("Der Turm wurde 1889 gebaut.", "[1889]"), "Der Turm wurde 1889 gebaut.", 15, "1889", "fuzzy")


def test_scripts_without_spaces():
    check(project("埃菲尔铁塔建于[1889年]。"), "埃菲尔铁塔建于1889年。", 7, "1889年", "markers")
    check(project("巴黎是法国的首都。", "法国首都"), "巴黎是法国的首都。", 3, "法国的首都", "fuzzy")


def test_fuzzy_find_prefers_whole_words_and_the_first_match():
    text = "Berlinn liegt nahe Berlin und Berlin."
    assert fuzzy_find(text, "Berlin") == (19, 25)
    assert fuzzy_find("nichts davon", "") is None


# --- sentence splitting -----------------------------------------------------------------------------------------

def test_sentences_are_split_but_a_marked_span_stays_whole():
    text = "The tower is tall. It was built by [Gustave Eiffel. Jr.] in 1889! Is it red? Yes."
    assert split_sentences(text, 500) == ["The tower is tall.", "It was built by [Gustave Eiffel. Jr.] in 1889!",
                                          "Is it red?", "Yes."]


def test_no_split_before_a_lower_case_word():
    assert split_sentences("It opened at 3 p.m. on Monday. Then it closed.", 500) == [
        "It opened at 3 p.m. on Monday.", "Then it closed."]


def test_long_sentences_are_cut_at_clauses_then_words_never_inside_markers():
    sentence = "alpha beta gamma, delta epsilon [zeta eta theta] iota kappa lambda"
    pieces = split_sentences(sentence, 20)
    assert " ".join(pieces) == sentence
    assert pieces[0] == "alpha beta gamma,"
    assert "[zeta eta theta]" in " ".join(p for p in pieces if "[" in p)
    assert all(p.count("[") == p.count("]") for p in pieces)
    assert all(len(p) <= 20 for p in pieces if "[" not in p)


def test_cjk_sentences_split_without_spaces():
    assert split_sentences("巴黎很大。铁塔很高！", 500) == ["巴黎很大。", "铁塔很高！"]
