"""Tests for xstilts.bootstrap (paired, hierarchical bootstrap of arm differences) and the deltas step of
xstilts.score that runs it over score directories."""

import numpy as np
import pytest

from xstilts.bootstrap import (
    Delta,
    grid_deltas,
    headline_scores,
    paired_bootstrap,
    resampled_sums,
    task_scores,
)
from xstilts.metrics import ExampleStats, bucc_f1, bucc_stats, headline, scores_from_stats
from xstilts.score import delta_comparisons, deltas, read_stats, write_stats
from xstilts.tables import DELTA_FIELDS, read_deltas


def accuracy(correct) -> ExampleStats:
    correct = np.asarray(correct, dtype=np.int64)
    return ExampleStats("accuracy", np.column_stack([correct, np.ones_like(correct)]))


def random_correct(rng, p, n):
    return (rng.random(n) < p).astype(int)


def test_identical_systems_are_not_significant():
    rng = np.random.default_rng(0)
    runs = {"en": [accuracy(random_correct(rng, 0.7, 400)) for _ in range(3)],
            "de": [accuracy(random_correct(rng, 0.6, 400)) for _ in range(3)]}
    delta, per_language = paired_bootstrap(runs, runs)
    assert delta.delta == 0.0
    assert delta.ci_low < 0 < delta.ci_high and not delta.significant
    assert all(d.ci_low <= 0 <= d.ci_high and not d.significant for d in per_language.values())


def test_one_identical_seed_gives_a_zero_interval():
    run = {"en": [accuracy(random_correct(np.random.default_rng(1), 0.5, 100))]}
    assert paired_bootstrap(run, run) == (Delta(0.0, 0.0, 0.0), {"en": Delta(0.0, 0.0, 0.0)})
    assert not Delta(0.0, 0.0, 0.0).significant


def test_a_clearly_better_system_is_significant():
    rng = np.random.default_rng(2)
    reference = {lang: [accuracy(random_correct(rng, 0.6, 1000)) for _ in range(3)] for lang in ("en", "de")}
    system = {lang: [accuracy(random_correct(rng, 0.75, 1000)) for _ in range(3)] for lang in ("en", "de")}
    delta, per_language = paired_bootstrap(system, reference)
    assert 12 < delta.delta < 18 and delta.significant and delta.ci_low > 5
    assert delta.ci_low < delta.delta < delta.ci_high
    assert all(d.significant for d in per_language.values())
    # and the other way round: significantly worse
    worse, _ = paired_bootstrap(reference, system)
    assert worse.significant and worse.ci_high < 0 and worse.delta == pytest.approx(-delta.delta)


def test_pairing_by_example_detects_a_small_consistent_gain():
    # The system fixes 40 of 2000 examples the reference gets wrong and is otherwise identical: +2 points.
    # Paired by example the difference is certain; two unrelated samples of 2000 could not show it.
    rng = np.random.default_rng(3)
    reference = random_correct(rng, 0.5, 2000)
    system = reference.copy()
    system[np.flatnonzero(reference == 0)[:40]] = 1
    delta, _ = paired_bootstrap({"en": [accuracy(system)]}, {"en": [accuracy(reference)]})
    assert delta.delta == pytest.approx(2.0)
    assert delta.significant and delta.ci_high - delta.ci_low < 1.5


def test_seeds_are_resampled_per_system():
    # Same examples, the system's two seeds at 65% and 95%, the reference's at 74% and 76%: +5 points on
    # average, but seed draws (both seeds 65%: -10) make it uncertain; with steady seeds it is significant.
    n = 1000

    def fixed(p):
        return accuracy(np.arange(n) < p * n)

    reference = {"en": [fixed(0.74), fixed(0.76)]}
    unsteady, _ = paired_bootstrap({"en": [fixed(0.65), fixed(0.95)]}, reference)
    steady, _ = paired_bootstrap({"en": [fixed(0.79), fixed(0.81)]}, reference)
    assert unsteady.delta == pytest.approx(5.0) and steady.delta == pytest.approx(5.0)
    assert not unsteady.significant and unsteady.ci_low < -5
    assert steady.significant


def test_interval_shrinks_with_more_examples():
    def width(n):
        rng = np.random.default_rng(4)
        system = {"en": [accuracy(random_correct(rng, 0.7, n))]}
        reference = {"en": [accuracy(random_correct(rng, 0.7, n))]}
        delta, _ = paired_bootstrap(system, reference)
        return delta.ci_high - delta.ci_low

    small, large = width(200), width(5000)
    assert large < small / 3  # ~ 1 / sqrt(n): 5 times narrower expected


def test_deterministic_given_the_seed():
    rng = np.random.default_rng(5)
    system = {"en": [accuracy(random_correct(rng, 0.7, 300)) for _ in range(2)]}
    reference = {"en": [accuracy(random_correct(rng, 0.65, 300)) for _ in range(2)]}
    first = paired_bootstrap(system, reference, seed=7)
    assert paired_bootstrap(system, reference, seed=7) == first
    other = paired_bootstrap(system, reference, seed=8)
    assert other[0].delta == first[0].delta and other[0].ci_low != first[0].ci_low


def test_resample_count_is_honoured_and_weights_draw_n_units():
    values = np.column_stack([np.arange(10), np.ones(10)])
    sums = resampled_sums(values, 37, np.random.default_rng(0))
    assert sums.shape == (37, 2)
    assert (sums[:, 1] == 10).all()  # every replicate draws exactly n units
    assert sums[:, 0].mean() == pytest.approx(45, rel=0.15)
    assert not (sums[:, 0] == 45).all()


def test_resampled_sums_stay_exact_for_large_counts():
    # counts too large for float32 partial sums switch to float64
    values = np.full((3, 3), 2**23, dtype=np.int64)
    sums = resampled_sums(values, 5, np.random.default_rng(0))
    assert (sums == 3 * 2**23).all()


@pytest.mark.parametrize("kind, values", [
    ("accuracy", [[1, 1], [0, 1], [1, 1]]),
    ("f1", [[2, 3, 4], [0, 1, 0], [1, 1, 2]]),
    ("f1", [[0, 0, 3]]),  # nothing predicted: 0
    ("qa", [[1, 1.0, 1], [0, 0.25, 1], [0, 0.0, 1]]),
])
def test_vectorized_headline_equals_the_metric(kind, values):
    stats = ExampleStats(kind, np.array(values, dtype=float))
    assert headline_scores(kind, stats.values.sum(axis=0)) == pytest.approx(headline(scores_from_stats(stats)))


def test_qa_headline_is_the_mean_of_em_and_f1():
    run = ExampleStats("qa", np.array([[1, 1.0, 1], [0, 0.5, 1]]))
    scores = task_scores([{"en": run}], ["en"], "xquad", resamples=10)
    assert scores.observed[0, 0] == (50.0 + 75.0) / 2


def test_bucc_runs_are_paired_by_source_sentence():
    gold = ["s1\tt1", "s2\tt2", "s3\tt3"]
    first = bucc_stats(gold, ["s1\tt1", "s2\tt9"])
    second = bucc_stats(gold, ["s4\tt4", "s3\tt3", "s2\tt2"])  # another order and a source the first lacks
    scores = task_scores([{"de": first}, {"de": second}], ["de"], "bucc2018", resamples=50)
    assert scores.observed[:, 0].tolist() == [bucc_f1(gold, ["s1\tt1", "s2\tt9"])["f1"],
                                              bucc_f1(gold, ["s4\tt4", "s3\tt3", "s2\tt2"])["f1"]]
    assert scores.replicates.shape == (2, 1, 50)


def test_runs_on_different_test_sets_are_refused():
    with pytest.raises(ValueError, match=r"xnli/de: runs have different numbers of test examples \[3, 4\]"):
        task_scores([{"de": accuracy([1, 0, 1])}, {"de": accuracy([1, 0, 1, 1])}], ["de"], "xnli", resamples=5)
    with pytest.raises(ValueError, match="different languages"):
        paired_bootstrap({"de": [accuracy([1])]}, {"en": [accuracy([1])]})


# --- the grid -----------------------------------------------------------------------------------------------

TASKS = {"xnli": ["de", "en"], "tatoeba": ["de"]}
ARMS = {"none": 0.5, "mnli": 0.6, "mnli_mt": 0.75}  # accuracy each arm's runs reach


def grid_stats(seeds=(1, 2), n=400):
    rng = np.random.default_rng(6)
    return {task: {("m", arm, seed): {lang: accuracy(random_correct(rng, p, n)) for lang in langs}
                   for arm, p in ARMS.items() for seed in seeds}
            for task, langs in TASKS.items()}


def loader(stats):
    """grid_deltas' load(task, lang) over {task: {run: {lang: statistics}}}."""
    return lambda task, lang: {run: per_language[lang] for run, per_language in stats[task].items()}


def test_grid_deltas_rows():
    stats = grid_stats()
    comparisons = [("mnli", "none"), ("mnli_mt", "none"), ("mnli_mt", "mnli"), ("absent", "none")]
    rows = grid_deltas(loader(stats), list(TASKS), comparisons, TASKS, resamples=200)
    keys = [(r["arm"], r["reference"], r["task"], r["lang"]) for r in rows]
    per_pair = [("xnli", "de"), ("xnli", "en"), ("xnli", "all"), ("tatoeba", "de"), ("tatoeba", "all"),
                ("all", "all")]
    assert keys == [(a, r, t, lang) for a, r in comparisons[:3] for t, lang in per_pair]
    by_key = {(r["arm"], r["reference"], r["task"], r["lang"]): r for r in rows}
    # the task delta is the mean of the language deltas; the overall one the mean of the task deltas
    xnli = [by_key[("mnli", "none", "xnli", lang)]["delta"] for lang in ("de", "en")]
    assert by_key[("mnli", "none", "xnli", "all")]["delta"] == pytest.approx(np.mean(xnli))
    tasks = [by_key[("mnli", "none", t, "all")]["delta"] for t in TASKS]
    assert by_key[("mnli", "none", "all", "all")]["delta"] == pytest.approx(np.mean(tasks))
    # the observed delta is the difference of the seed-averaged scores
    de = [100 * stats["xnli"][("m", arm, s)]["de"].values[:, 0].mean() for arm in ("mnli", "none") for s in (1, 2)]
    assert by_key[("mnli", "none", "xnli", "de")]["delta"] == pytest.approx((de[0] + de[1] - de[2] - de[3]) / 2)
    assert by_key[("mnli_mt", "none", "all", "all")]["significant"]
    for row in rows:
        assert row["ci_low"] <= row["ci_high"] and set(row) == set(DELTA_FIELDS)


def test_grid_deltas_do_not_depend_on_the_other_runs():
    stats = grid_stats()
    full = grid_deltas(loader(stats), list(TASKS), [("mnli", "none"), ("mnli_mt", "mnli")], TASKS, 100)
    without = {t: {k: v for k, v in runs.items() if k[1] != "mnli_mt"} for t, runs in stats.items()}
    alone = grid_deltas(loader(without), list(TASKS), [("mnli", "none")], TASKS, 100)
    assert alone == full[:len(alone)]


def test_grid_deltas_need_the_same_runs_for_every_task():
    stats = grid_stats()
    del stats["tatoeba"][("m", "mnli", 2)]
    with pytest.raises(ValueError, match=r"tatoeba/de has statistics of runs .*m/mnli seeds \[1\],.* but xnli/de of"):
        grid_deltas(loader(stats), list(TASKS), [("mnli", "none")], TASKS, 10)


def test_delta_comparisons():
    kinds = {"none": "baseline", "mnli": "english", "squad": "english", "mnli_mt": "multilingual", "mlm": "mlm"}
    assert delta_comparisons(kinds, "none") == [
        ("mnli", "none"), ("squad", "none"), ("mnli_mt", "none"), ("mlm", "none"),
        ("mnli_mt", "mnli"), ("mnli_mt", "squad"), ("mlm", "mnli"), ("mlm", "squad")]


def test_stats_files_round_trip(tmp_path):
    keyed = bucc_stats(["a\tb", "c\td"], ["a\tb", "e\tf"])
    plain = ExampleStats("qa", np.array([[1, 0.5, 1], [0, 0.25, 1]]))
    for n, stats in enumerate((keyed, plain)):
        write_stats(tmp_path / f"{n}.stats.npz", stats)
        back = read_stats(tmp_path / f"{n}.stats.npz")
        assert back.kind == stats.kind and back.ids == stats.ids
        assert np.array_equal(back.values, stats.values) and back.values.dtype == stats.values.dtype


def test_deltas_csv_from_score_directories(tmp_path):
    import json

    stats = grid_stats(seeds=(1,), n=100)
    dirs = []
    for task, runs in stats.items():
        for (model, arm, seed), per_language in runs.items():
            directory = tmp_path / model / arm / f"seed{seed}" / task
            directory.mkdir(parents=True)
            (directory / "task.json").write_text(json.dumps({"model": model, "arm": arm, "seed": seed,
                                                             "task": task}))
            for lang, lang_stats in per_language.items():
                write_stats(directory / f"{lang}.stats.npz", lang_stats)
            dirs.append(directory)
    out = tmp_path / "deltas.csv"
    kinds = {"none": "baseline", "mnli": "english", "mnli_mt": "multilingual"}
    deltas(dirs, out, TASKS, kinds, "none", resamples=50, seed=0)
    rows = read_deltas(out)
    assert out.read_text().splitlines()[0] == ",".join(DELTA_FIELDS)
    expected = grid_deltas(loader(stats), list(TASKS), delta_comparisons(kinds, "none"), TASKS, 50, 0)
    assert rows == expected
    assert {(r["arm"], r["reference"]) for r in rows} == {("mnli", "none"), ("mnli_mt", "none"),
                                                          ("mnli_mt", "mnli")}
