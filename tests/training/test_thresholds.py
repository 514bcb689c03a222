import subprocess
import sys

import numpy as np
import pytest
from helpers import REPOSITORY

from ecgcrnn.domain import default_class_table
from ecgcrnn.scoring.metrics import compute_challenge_metric
from ecgcrnn.training.thresholds import (
    IncrementalMetric,
    apply_thresholds,
    best_f_measure_thresholds,
    candidate_thresholds,
    choose_thresholds,
    share_floor,
)

# Hand-made cases: classes normal (index 0), a and b; predicting b when a is true earns half a point.
NORMAL = 0
WEIGHTS = np.array([[1, 0, 0], [0, 1, 0.5], [0, 0.5, 1]])
# Labels: r0 has a, r1 and r2 are normal; class b has no positives. S_true = 3. The inactive outputs
# (normal everywhere) score 0 on r0 and 1 on r1 and r2: S_inactive = 2, so metric = S_obs - 2.
# Per recording, with r0's reward vector L W = (0, 1, .5): r0 scores 1 for {a}, .5/2 for {b}, 1.5/2 for
# {a, b}; a normal recording scores 1 for {normal} and 1/2 when one more class is predicted.
LABELS = np.array([[0, 1, 0], [1, 0, 0], [1, 0, 0]], dtype=bool)


def random_case(num_recordings: int, seed: int, prevalence: float = 0.15):
    rng = np.random.default_rng(seed)
    table = default_class_table()
    labels = rng.random((num_recordings, len(table))) < prevalence
    probabilities = np.clip(0.3 * labels + rng.normal(0.35, 0.2, labels.shape), 0, 1).round(3)
    return table, labels, probabilities


def metric_of(table, labels, probabilities, thresholds) -> float:
    outputs = apply_thresholds(probabilities, thresholds)
    return compute_challenge_metric(table.weights, labels, outputs, table.normal_index)


def test_hand_case_reaches_the_optimum_worked_on_paper():
    # Probabilities (normal, a, b): r0 (.1, .3, .8), r1 (.9, .2, .1), r2 (.8, .4, .2). Class a can only
    # be predicted on r0 together with r2 (.4 > .3). With normal on r1, r2 (the only sensible cut):
    #   a none, b none: 0 + 1 + 1 = 2        a none, b {r0}: .25 + 2 = 2.25 (the 0.5-everywhere outputs)
    #   a {r0, r2}, b none: 1 + 1 + .5 = 2.5  a {r0, r2}, b {r0}: .75 + 1 + .5 = 2.25
    #   a everywhere: 1 + .5 + .5 = 2         b on r2 or r1 only loses.
    # Best: normal on r1, r2; a on r0, r2; b nowhere; metric 2.5 - 2 = 0.5.
    probabilities = np.array([[0.1, 0.3, 0.8], [0.9, 0.2, 0.1], [0.8, 0.4, 0.2]])
    thresholds = choose_thresholds(LABELS, probabilities, WEIGHTS, NORMAL)
    expected = np.array([[0, 1, 0], [1, 0, 0], [1, 1, 0]], dtype=bool)
    np.testing.assert_array_equal(apply_thresholds(probabilities, thresholds), expected)
    assert compute_challenge_metric(WEIGHTS, LABELS, expected, NORMAL) == pytest.approx(0.5, abs=1e-12)


def test_class_without_positives_is_predicted_when_the_weights_reward_it():
    # Probabilities (normal, a, b): r0 (.1, .1, .8), r1 (.9, .3, .1), r2 (.8, .2, .2). Class a is ranked
    # below both normal recordings: a everywhere scores 1 + .5 + .5 = 2, a nowhere 2. Class b on r0 alone
    # earns .5 / |{a, b}| = .25: normal on r1, r2, a nowhere, b on r0 gives 2.25, metric 0.25, the best.
    probabilities = np.array([[0.1, 0.1, 0.8], [0.9, 0.3, 0.1], [0.8, 0.2, 0.2]])
    thresholds = choose_thresholds(LABELS, probabilities, WEIGHTS, NORMAL)
    expected = np.array([[0, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(apply_thresholds(probabilities, thresholds), expected)
    assert compute_challenge_metric(WEIGHTS, LABELS, expected, NORMAL) == pytest.approx(0.25, abs=1e-12)


def test_class_without_positives_stays_above_its_probabilities_when_predicting_it_never_helps():
    rng = np.random.default_rng(3)
    labels = rng.random((200, 3)) < 0.4
    labels[:, 2] = False
    probabilities = np.clip(0.4 * labels + rng.random(labels.shape) * 0.6, 0, 1)
    thresholds = choose_thresholds(labels, probabilities, np.eye(3), 0)
    assert thresholds[2] > probabilities[:, 2].max()


def test_chosen_thresholds_score_at_least_the_default_everywhere():
    table, labels, probabilities = random_case(1000, seed=0)
    chosen = choose_thresholds(labels, probabilities, table.weights, table.normal_index)
    uniform = np.full(len(table), 0.5)
    assert metric_of(table, labels, probabilities, chosen) >= metric_of(table, labels, probabilities, uniform)


def test_chosen_thresholds_score_at_least_the_f_measure_start():
    table, labels, probabilities = random_case(1000, seed=1)
    chosen = choose_thresholds(labels, probabilities, table.weights, table.normal_index)
    start = best_f_measure_thresholds(labels, probabilities)
    assert metric_of(table, labels, probabilities, chosen) >= metric_of(table, labels, probabilities, start)


def test_coordinate_ascent_improves_on_both_start_points():
    table, labels, probabilities = random_case(1000, seed=1)
    chosen = choose_thresholds(labels, probabilities, table.weights, table.normal_index)
    starts = (best_f_measure_thresholds(labels, probabilities), np.full(len(table), 0.5))
    best_start = max(metric_of(table, labels, probabilities, start) for start in starts)
    assert metric_of(table, labels, probabilities, chosen) > best_start + 0.01


def test_separable_probabilities_reach_metric_one():
    rng = np.random.default_rng(2)
    table = default_class_table()
    labels = rng.random((300, len(table))) < 0.1
    probabilities = np.where(labels, 0.6 + 0.4 * rng.random(labels.shape), 0.4 * rng.random(labels.shape))
    thresholds = choose_thresholds(labels, probabilities, table.weights, table.normal_index)
    assert metric_of(table, labels, probabilities, thresholds) == pytest.approx(1.0, abs=1e-12)


def test_incremental_metric_equals_compute_challenge_metric():
    table, labels, probabilities = random_case(400, seed=4)
    metric = IncrementalMetric(labels, probabilities, table.weights, table.normal_index)
    outputs = np.random.default_rng(5).random(labels.shape) < 0.2
    candidates = np.concatenate(([0.0, 0.5, 1.0], probabilities[:20, 7], [np.nextafter(1.0, 2.0)]))
    for k in (table.normal_index, 7, 25):
        scores = metric.column_scores(outputs, k, candidates)
        for threshold, score in zip(candidates, scores, strict=True):
            changed = outputs.copy()
            changed[:, k] = probabilities[:, k] >= threshold
            expected = compute_challenge_metric(table.weights, labels, changed, table.normal_index)
            assert score == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", [6, 7])
def test_column_scores_equal_compute_challenge_metric_for_every_class_and_candidate(seed):
    # The incremental form against the scoring module's metric, for each threshold the ascent can try.
    table, labels, probabilities = random_case(150, seed=seed)
    metric = IncrementalMetric(labels, probabilities, table.weights, table.normal_index)
    outputs = metric.outputs(np.random.default_rng(seed).uniform(0.3, 0.8, len(table)))
    for k, grid in enumerate(candidate_thresholds(probabilities, candidates=20)):
        scores = metric.column_scores(outputs, k, grid)
        expected = []
        for threshold in grid:
            changed = outputs.copy()
            changed[:, k] = probabilities[:, k] >= threshold
            expected.append(compute_challenge_metric(table.weights, labels, changed, table.normal_index))
        np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12, err_msg=f"class {k}")
    assert metric.score(outputs) == compute_challenge_metric(
        table.weights, labels, outputs, table.normal_index
    )


def test_thresholds_module_imports_no_tensorflow():
    code = (
        "import sys, ecgcrnn.training.thresholds; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPOSITORY)
    assert result.stdout.split() == ["False", "False"], result.stderr


def test_f_measure_start_is_the_cut_worked_on_paper():
    # Positives at .9 and .6, negatives at .7 and .2. Predicting {.9}: F = 2/3; {.9, .7}: 1/2;
    # {.9, .7, .6}: 4/5 (the best); all four: 2/3.
    labels = np.array([[1], [0], [1], [0]], dtype=bool)
    probabilities = np.array([[0.9], [0.7], [0.6], [0.2]])
    threshold = best_f_measure_thresholds(labels, probabilities)[0]
    assert 0.2 < threshold <= 0.6


def test_equal_probabilities_give_valid_thresholds():
    table, labels, _ = random_case(50, seed=6)
    probabilities = np.full(labels.shape, 0.3)
    thresholds = choose_thresholds(labels, probabilities, table.weights, table.normal_index)
    assert thresholds.shape == (len(table),)
    assert np.all((thresholds >= 0) & (thresholds <= 1))


def test_single_recording_is_scored_perfectly():
    table, labels, probabilities = random_case(1, seed=7, prevalence=0.3)
    labels[0, 3] = True
    thresholds = choose_thresholds(labels, probabilities, table.weights, table.normal_index)
    assert metric_of(table, labels, probabilities, thresholds) == pytest.approx(1.0, abs=1e-12)


def test_choice_is_deterministic():
    table, labels, probabilities = random_case(300, seed=8)
    first = choose_thresholds(labels, probabilities, table.weights, table.normal_index)
    second = choose_thresholds(labels.copy(), probabilities.copy(), table.weights, table.normal_index)
    np.testing.assert_array_equal(first, second)


def test_apply_thresholds_predicts_probabilities_equal_to_the_threshold():
    outputs = apply_thresholds([[0.5, 0.49], [1.0, 0.5]], [0.5, 0.5])
    np.testing.assert_array_equal(outputs, [[True, False], [True, True]])


@pytest.mark.parametrize(
    ("probabilities", "weights", "options"),
    [
        ([[np.nan, 0.5, 0.5]], WEIGHTS, {}),
        ([[1.5, 0.5, 0.5]], WEIGHTS, {}),
        ([[0.5, 0.5]], WEIGHTS, {}),
        ([[0.5, 0.5, 0.5]], np.eye(2), {}),
        ([[0.5, 0.5, 0.5]], WEIGHTS, {"candidates": 0}),
        ([[0.5, 0.5, 0.5]], WEIGHTS, {"default": 2.0}),
    ],
    ids=["nan", "above-one", "shape", "weights-shape", "no-candidates", "default-out-of-range"],
)
def test_choose_thresholds_rejects_invalid_input(probabilities, weights, options):
    with pytest.raises(ValueError):
        choose_thresholds([[True, False, False]], probabilities, weights, NORMAL, **options)


def test_choose_thresholds_rejects_normal_index_outside_the_classes():
    with pytest.raises(ValueError, match="normal_index"):
        choose_thresholds([[True, False, False]], [[0.5, 0.5, 0.5]], WEIGHTS, 3)


@pytest.mark.parametrize(
    ("probabilities", "thresholds"),
    [([[0.5, np.nan]], [0.5, 0.5]), ([[0.5, 0.5, 0.5]], [0.5, 0.5]), ([[0.5, 0.5]], [[0.5, 0.5]])],
    ids=["nan", "length", "thresholds-2d"],
)
def test_apply_thresholds_rejects_invalid_input(probabilities, thresholds):
    with pytest.raises(ValueError):
        apply_thresholds(probabilities, thresholds)


def test_fixed_threshold_is_kept_and_the_other_classes_are_chosen_around_it():
    # The hand case with b fixed at 0.9 (never predicted): the optimum is still a on r0 and r2, metric 0.5,
    # which the default start (a at 0.5, nowhere) only reaches by moving a.
    probabilities = np.array([[0.1, 0.3, 0.8], [0.9, 0.2, 0.1], [0.8, 0.4, 0.2]])

    thresholds = choose_thresholds(LABELS, probabilities, WEIGHTS, NORMAL, fixed=[np.nan, np.nan, 0.9])

    assert thresholds[2] == 0.9
    expected = np.array([[0, 1, 0], [1, 0, 0], [1, 1, 0]], dtype=bool)
    np.testing.assert_array_equal(apply_thresholds(probabilities, thresholds), expected)


def test_fixed_threshold_holds_even_where_choosing_it_would_score_higher():
    # a fixed at 0.5 is never predicted (its probabilities are at most .4): the best left is b on r0, 0.25.
    probabilities = np.array([[0.1, 0.3, 0.8], [0.9, 0.2, 0.1], [0.8, 0.4, 0.2]])

    thresholds = choose_thresholds(LABELS, probabilities, WEIGHTS, NORMAL, fixed=[np.nan, 0.5, np.nan])

    assert thresholds[1] == 0.5
    outputs = apply_thresholds(probabilities, thresholds)
    np.testing.assert_array_equal(outputs, [[0, 0, 1], [1, 0, 0], [1, 0, 0]])
    assert compute_challenge_metric(WEIGHTS, LABELS, outputs, NORMAL) == pytest.approx(0.25, abs=1e-12)


def test_fixed_thresholds_off_the_candidate_grid_are_kept_exactly():
    table, labels, probabilities = random_case(300, seed=9)
    fixed = np.full(len(table), np.nan)
    fixed[[3, 11]] = 0.123456, 0.987654

    thresholds = choose_thresholds(labels, probabilities, table.weights, table.normal_index, fixed=fixed)

    assert thresholds[3] == 0.123456 and thresholds[11] == 0.987654


def test_no_fixed_threshold_is_the_same_choice_as_all_nan():
    table, labels, probabilities = random_case(300, seed=10)

    free = choose_thresholds(labels, probabilities, table.weights, table.normal_index)
    unfixed = choose_thresholds(
        labels, probabilities, table.weights, table.normal_index, fixed=np.full(len(table), np.nan)
    )

    np.testing.assert_array_equal(unfixed, free)


@pytest.mark.parametrize("fixed", [[0.5, 0.5], [[np.nan, 0.5, np.nan]], 0.5], ids=["length", "2d", "scalar"])
def test_fixed_thresholds_not_one_per_class_raise_value_error(fixed):
    with pytest.raises(ValueError, match="fixed thresholds of shape .* do not match 3 classes"):
        choose_thresholds([[True, False, False]], [[0.5, 0.5, 0.5]], WEIGHTS, NORMAL, fixed=fixed)


def test_probabilities_of_unknown_labels_do_not_change_the_choice():
    table, labels, probabilities = random_case(300, seed=5)
    known = np.random.default_rng(6).random(labels.shape) < 0.7
    other = np.where(known, probabilities, np.random.default_rng(7).random(labels.shape))

    masked = choose_thresholds(labels & known, probabilities, table.weights, table.normal_index, known=known)
    changed = choose_thresholds(labels & known, other, table.weights, table.normal_index, known=known)

    np.testing.assert_array_equal(masked, changed)


def test_unknown_labels_are_left_out_of_the_metric_the_thresholds_maximise():
    table, labels, probabilities = random_case(300, seed=8)
    known = np.random.default_rng(9).random(labels.shape) < 0.7

    chosen = choose_thresholds(labels, probabilities, table.weights, table.normal_index, known=known)
    unmasked = choose_thresholds(labels, probabilities, table.weights, table.normal_index)

    def masked_metric(thresholds):
        outputs = apply_thresholds(probabilities, thresholds) & known
        return compute_challenge_metric(table.weights, labels & known, outputs, table.normal_index)

    assert masked_metric(chosen) >= masked_metric(unmasked)


def test_no_threshold_is_chosen_below_its_floor():
    table, labels, probabilities = random_case(200, seed=10)
    floor = np.linspace(0.2, 0.9, labels.shape[1])
    fixed = np.full(labels.shape[1], np.nan)
    fixed[0] = 0.1

    chosen = choose_thresholds(
        labels, probabilities, table.weights, table.normal_index, fixed=fixed, floor=floor
    )

    assert np.all(chosen >= floor)
    assert chosen[0] == floor[0]  # a given threshold below the floor is raised to it


def test_share_floor_is_the_lowest_threshold_that_keeps_every_group_within_its_limit():
    probabilities = np.array([[0.9], [0.8], [0.7], [0.6], [0.95], [0.1], [0.2], [0.3]])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])

    floor = share_floor(probabilities, groups, [0.5])[0]

    shares = [np.mean(probabilities[groups == g, 0] >= floor) for g in ("a", "b")]
    assert max(shares) <= 0.5
    assert floor == np.nextafter(0.7, 1)  # group a may have two of its four predicted: 0.9 and 0.8
    assert np.mean(probabilities[groups == "a", 0] >= 0.7) > 0.5


def test_share_floor_of_a_limit_of_one_is_zero():
    probabilities = np.random.default_rng(1).random((20, 3))

    np.testing.assert_array_equal(share_floor(probabilities, np.zeros(20), np.ones(3)), 0.0)


def test_share_floor_with_confidence_lets_a_group_state_the_binomial_quantile_of_its_limit():
    # 7 records against a limit of 0.3: floor(0.3 * 7) = 2 calls, but a source whose true share is 0.3
    # has 4 or fewer of 7 with probability 0.97 (Binomial(7, 0.3)), so at q = 0.95 it may have 4.
    probabilities = np.array([[0.9], [0.8], [0.7], [0.6], [0.5], [0.4], [0.3]])
    groups = np.zeros(7)

    strict = share_floor(probabilities, groups, [0.3])[0]
    lenient = share_floor(probabilities, groups, [0.3], confidence=0.95)[0]

    assert strict == np.nextafter(0.7, 1)
    assert lenient == np.nextafter(0.5, 1)


def test_share_floor_with_confidence_holds_a_large_group_close_to_its_limit():
    probabilities = np.linspace(0.0, 1.0, 1000)[:, None]

    floor = share_floor(probabilities, np.zeros(1000), [0.2], confidence=0.95)[0]

    share = np.mean(probabilities[:, 0] >= floor)
    assert 0.2 < share < 0.23  # the 0.95 quantile of Binomial(1000, 0.2) is 221


def test_share_floor_never_binds_below_the_plain_limit_whatever_the_confidence():
    rng = np.random.default_rng(3)
    probabilities, groups = rng.random((60, 4)), rng.integers(0, 5, 60)
    limits = np.array([0.05, 0.2, 0.5, 0.9])

    plain = share_floor(probabilities, groups, limits)
    for confidence in (0.5, 0.9, 0.99):
        assert np.all(share_floor(probabilities, groups, limits, confidence) <= plain)


@pytest.mark.parametrize("confidence", [-0.1, 1.0, 1.5])
def test_share_floor_refuses_a_confidence_outside_zero_to_one(confidence):
    with pytest.raises(ValueError, match="confidence"):
        share_floor(np.zeros((3, 1)), np.zeros(3), [0.5], confidence)
