import logging
import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from ecgcrnn.domain import default_class_table
from ecgcrnn.scoring import evaluate
from ecgcrnn.scoring import metrics as scoring

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
AF, CLBBB, CRBBB, NSR = 0, 4, 5, 14

# A 3-recording, 3-class case worked on paper. Classes a, b and normal (index 2); W = [[1, .5, 0],
# [.5, 1, 0], [0, 0, 1]].
#   labels L          binary O          scalar S
#   r1: 1 0 0         1 0 0             .9 .2 .1
#   r2: 0 1 0         1 0 0             .6 .4 .3
#   r3: 1 0 1         1 1 1             .6 .7 .8
# Accuracy: only r1 matches in every class -> 1/3.
# F-measure: a: TP 2, FP 1, FN 0 -> 4/5; b: TP 0, FP 1, FN 1 -> 0/2 = 0; normal: TP 1 -> 2/2 = 1; mean 0.6.
# AUROC/AUPRC, class a (P 2, N 1): thresholds 1.9, .9, .6 give (TPR, TNR, PPV) = (0, 1, nan), (.5, 1, 1),
#   (1, 0, 2/3): AUROC = .5*.5*(1+1) + .5*.5*(0+1) = .75; AUPRC = .5*1 + .5*2/3 = 5/6.
#   class b (P 1, N 2): thresholds 1.7, .7, .4, .2 give (0, 1), (0, .5, PPV 0), (1, .5, .5), (1, 0, 1/3):
#   AUROC = .5*1*(.5+.5) = .5; AUPRC = 1*.5 = .5.
#   class normal: r3 (the positive) has the largest output: AUROC = AUPRC = 1.
#   Macro AUROC = 2.25/3 = .75; macro AUPRC = (5/6 + .5 + 1)/3 = 7/9.
# Challenge metric: n = |L ∪ O| = 1, 2, 3. A_obs: r1 adds 1 to A[a,a]; r2 1/2 to A[b,a]; r3 1/3 to A[j,k]
#   for j in {a, normal}, k in {a, b, normal}. S_obs = 4/3 + .5*.5 + .5/3 + 1/3 = 25/12.
#   S_true: r1 1 to A[a,a], r2 1 to A[b,b], r3 1/2 to A[a,a], A[a,n], A[n,a], A[n,n] -> 1 + 1 + .5 + .5 = 3.
#   S_inactive (only normal): n = 2 each; r1 .5 to A[a,n] (W 0), r2 .5 to A[b,n] (W 0), r3 .5 to A[a,n]
#   and A[n,n] (W 1) -> .5. Metric = (25/12 - 1/2) / (3 - 1/2) = 19/30.
WEIGHTS = np.array([[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]])
LABELS = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1]], dtype=bool)
BINARY = np.array([[1, 0, 0], [1, 0, 0], [1, 1, 1]], dtype=bool)
SCALAR = np.array([[0.9, 0.2, 0.1], [0.6, 0.4, 0.3], [0.6, 0.7, 0.8]])

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def write_header(folder, record, dx_line):
    signals = "".join(f"{record}.mat 16+24 1000/mV 16 0 0 0 0 {lead}\n" for lead in LEADS)
    (folder / f"{record}.hea").write_text(f"{record} 12 500 5000\n{signals}#Age: 60\n{dx_line}\n")


def write_output(folder, record, classes, binary, scalar):
    (folder / f"{record}.csv").write_text(f"#{record}\n{classes}\n{binary}\n{scalar}\n")


def read_one(tmp_path, classes, binary, scalar):
    write_output(tmp_path, "r", classes, binary, scalar)
    binary_outputs, scalar_outputs = evaluate.load_classifier_outputs(
        [tmp_path / "r.csv"], default_class_table()
    )
    return binary_outputs[0], scalar_outputs[0]


@pytest.fixture
def folders(tmp_path):
    labels, outputs = tmp_path / "labels", tmp_path / "outputs"
    labels.mkdir()
    outputs.mkdir()
    return labels, outputs


# Metrics on the hand-worked case


def test_accuracy_of_the_worked_case():
    assert scoring.compute_accuracy(LABELS, BINARY) == pytest.approx(1 / 3)


def test_f_measure_of_the_worked_case():
    macro, per_class = scoring.compute_f_measure(LABELS, BINARY)
    assert per_class == pytest.approx([0.8, 0.0, 1.0])
    assert macro == pytest.approx(0.6)


def test_auroc_and_auprc_of_the_worked_case():
    auroc, auprc, auroc_classes, auprc_classes = scoring.compute_auc(LABELS, SCALAR)
    assert auroc_classes == pytest.approx([0.75, 0.5, 1.0])
    assert auprc_classes == pytest.approx([5 / 6, 0.5, 1.0])
    assert (auroc, auprc) == pytest.approx((0.75, 7 / 9))


def test_modified_confusion_matrix_of_the_worked_case():
    expected = np.array([[1 + 1 / 3, 1 / 3, 1 / 3], [1 / 2, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    assert scoring.compute_modified_confusion_matrix(LABELS, BINARY) == pytest.approx(expected)


def test_challenge_metric_of_the_worked_case():
    assert scoring.compute_challenge_metric(WEIGHTS, LABELS, BINARY, 2) == pytest.approx(19 / 30)


def test_challenge_metric_pieces_of_the_worked_case():
    reward = scoring.reward_matrix(WEIGHTS, LABELS)
    assert reward == pytest.approx(np.array([[1, 0.5, 0], [0.5, 1, 0], [1, 0.5, 1]]))
    inactive = scoring.inactive_outputs(LABELS.shape, 2)
    assert inactive.tolist() == [[False, False, True]] * 3
    observed, correct, inactive_score = (
        scoring.raw_score(reward, LABELS, o) for o in (BINARY, LABELS, inactive)
    )
    assert (observed, correct, inactive_score) == pytest.approx((25 / 12, 3, 0.5))
    assert scoring.normalise_score(observed, correct, inactive_score) == pytest.approx(19 / 30)
    assert scoring.normalise_score(np.array([1.0, 2.0]), 1.0, 1.0).tolist() == [0.0, 0.0]


# Against an independent implementation: scikit-learn's, per class on random data


def random_case(seed: int, ties: bool, num_recordings: int = 300, num_classes: int = 8):
    """Labels (N, C) with every class both positive and negative, scalar outputs (N, C) that rank the
    positives higher on average; rounded to one decimal (many ties) or distinct."""
    rng = np.random.default_rng(seed)
    labels = rng.random((num_recordings, num_classes)) < rng.uniform(0.05, 0.6, num_classes)
    assert labels.any(axis=0).all() and not labels.all(axis=0).any()
    scalar = rng.random(labels.shape) + rng.uniform(0, 0.8) * labels
    if ties:
        scalar = scalar.round(1)
    else:
        assert all(len(np.unique(column)) == num_recordings for column in scalar.T)
    return labels, scalar


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("seed", range(4))
def test_auroc_equals_scikit_learn_roc_auc_score(seed, ties):
    labels, scalar = random_case(seed, ties)
    auroc, _, auroc_classes, _ = scoring.compute_auc(labels, scalar)
    expected = [roc_auc_score(labels[:, k], scalar[:, k]) for k in range(labels.shape[1])]
    np.testing.assert_allclose(auroc_classes, expected, rtol=0, atol=1e-12)
    assert auroc == pytest.approx(np.mean(expected), abs=1e-12)


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("seed", range(4))
def test_auprc_step_sum_equals_scikit_learn_average_precision(seed, ties):
    # The Challenge's Σ ΔTPR · PPV over descending distinct thresholds is average precision, Σ ΔR_n · P_n.
    labels, scalar = random_case(seed, ties)
    _, auprc, _, auprc_classes = scoring.compute_auc(labels, scalar)
    expected = [average_precision_score(labels[:, k], scalar[:, k]) for k in range(labels.shape[1])]
    np.testing.assert_allclose(auprc_classes, expected, rtol=0, atol=1e-12)
    assert auprc == pytest.approx(np.mean(expected), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_f_measure_equals_scikit_learn_f1_score(seed):
    labels, scalar = random_case(seed, ties=False)
    binary = scalar > np.random.default_rng(seed).uniform(0.3, 1.2, labels.shape[1])
    labels[:, 0] = binary[:, 0] = False  # 2·TP + FP + FN = 0: NaN here, and left out of the mean
    macro, per_class = scoring.compute_f_measure(labels, binary)
    expected = f1_score(labels, binary, average=None, zero_division=np.nan)
    np.testing.assert_allclose(per_class, expected, rtol=0, atol=1e-12, equal_nan=True)
    assert math.isnan(per_class[0])
    assert macro == pytest.approx(f1_score(labels, binary, average="macro", zero_division=np.nan), abs=1e-12)


# NaN rules and degenerate cases


def test_class_without_positives_has_nan_auroc_excluded_from_the_mean():
    labels = np.array([[1, 0], [0, 0]], dtype=bool)
    scores = np.array([[0.9, 0.1], [0.2, 0.8]])
    auroc, _, auroc_classes, _ = scoring.compute_auc(labels, scores)
    assert auroc_classes[0] == 1.0 and math.isnan(auroc_classes[1])
    assert auroc == 1.0


def test_class_without_negatives_has_nan_auroc_but_an_auprc():
    labels = np.array([[1], [1]], dtype=bool)
    _, auprc, auroc_classes, auprc_classes = scoring.compute_auc(labels, np.array([[0.3], [0.7]]))
    assert math.isnan(auroc_classes[0])
    assert auprc_classes[0] == 1.0 and auprc == 1.0


def test_all_nan_auroc_gives_nan_macro_without_warning():
    auroc, auprc, _, _ = scoring.compute_auc(np.zeros((2, 2), dtype=bool), np.full((2, 2), 0.5))
    assert math.isnan(auroc) and math.isnan(auprc)


def test_all_tied_outputs_give_auroc_one_half_and_auprc_the_prevalence():
    labels = np.array([[1], [0], [0], [0]], dtype=bool)
    _, _, auroc_classes, auprc_classes = scoring.compute_auc(labels, np.full((4, 1), 0.5))
    assert auroc_classes[0] == 0.5  # one step from (TPR 0, TNR 1) to (1, 0)
    assert auprc_classes[0] == 0.25  # ΔTPR 1 times PPV 1/4


def test_f_measure_is_nan_for_a_class_with_no_labels_and_no_outputs():
    labels = np.array([[1, 0], [0, 0]], dtype=bool)
    outputs = np.array([[1, 0], [1, 0]], dtype=bool)
    macro, per_class = scoring.compute_f_measure(labels, outputs)
    assert per_class[0] == pytest.approx(2 / 3) and math.isnan(per_class[1])
    assert macro == pytest.approx(2 / 3)


def test_f_measure_is_nan_when_every_class_is_nan():
    macro, per_class = scoring.compute_f_measure(np.zeros((2, 3), dtype=bool), np.zeros((2, 3), dtype=bool))
    assert math.isnan(macro) and np.isnan(per_class).all()


def test_challenge_metric_is_zero_when_true_and_inactive_scores_are_equal():
    labels = np.array([[0, 0, 1], [0, 0, 1]], dtype=bool)  # every recording is normal only
    outputs = np.array([[1, 0, 0], [0, 1, 0]], dtype=bool)
    assert scoring.compute_challenge_metric(WEIGHTS, labels, outputs, 2) == 0.0


def test_challenge_metric_ignores_nan_weights():
    weights = WEIGHTS.copy()
    weights[1, 0] = np.nan  # r2's only credit (1/2 at A[b, a] with W 0.5) disappears: S_obs = 25/12 - 1/4
    assert scoring.compute_challenge_metric(weights, LABELS, BINARY, 2) == pytest.approx((11 / 6 - 0.5) / 2.5)


def test_perfect_outputs_score_one_and_inactive_outputs_zero():
    inactive = np.zeros_like(LABELS)
    inactive[:, 2] = True
    assert scoring.compute_challenge_metric(WEIGHTS, LABELS, LABELS, 2) == pytest.approx(1.0)
    assert scoring.compute_challenge_metric(WEIGHTS, LABELS, inactive, 2) == 0.0


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="do not match"):
        scoring.compute_accuracy(LABELS, BINARY[:2])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_auroc_equals_the_mann_whitney_probability_with_ties(data):
    # The trapezoidal AUROC is P(positive output > negative output) + P(tie) / 2.
    n = data.draw(st.integers(2, 30))
    labels = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    scores = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))) / 5
    _, _, auroc_classes, _ = scoring.compute_auc(labels[:, None], scores[:, None])
    positive, negative = scores[labels], scores[~labels]
    if len(positive) == 0 or len(negative) == 0:
        assert math.isnan(auroc_classes[0])
    else:
        difference = positive[:, None] - negative[None, :]
        expected = (
            np.count_nonzero(difference > 0) + 0.5 * np.count_nonzero(difference == 0)
        ) / difference.size
        assert auroc_classes[0] == pytest.approx(expected, abs=1e-12)


# Reading output files


def test_an_output_entry_a_or_b_counts_for_the_pair_class(tmp_path):
    binary, scalar = read_one(tmp_path, "733534002|164909002", "1", "0.7")
    assert np.flatnonzero(binary).tolist() == [CLBBB]
    assert scalar[CLBBB] == 0.7


@pytest.mark.parametrize("code", ["733534002", "164909002"])
def test_either_code_alone_counts_for_the_pair_class(tmp_path, code):
    binary, scalar = read_one(tmp_path, code, "1", "0.4")
    assert np.flatnonzero(binary).tolist() == [CLBBB]
    assert scalar[CLBBB] == 0.4


def test_reordered_and_unscored_output_columns(tmp_path):
    binary, scalar = read_one(tmp_path, "426783006,999999,164889003", "1,1,0", "0.7,0.9,0.2")
    assert np.flatnonzero(binary).tolist() == [NSR]
    assert (scalar[NSR], scalar[AF]) == (0.7, 0.2)
    assert np.count_nonzero(scalar) == 2


def test_duplicate_entries_are_averaged_and_any_positive_wins(tmp_path):
    binary, scalar = read_one(tmp_path, "713427006,59118001", "0,1", "0.2,0.6")
    assert binary[CRBBB]
    assert scalar[CRBBB] == pytest.approx(0.4)


@pytest.mark.parametrize("value", ["1", "1.0", "True", "true", "T", "t"])
def test_positive_binary_spellings(tmp_path, value):
    binary, _ = read_one(tmp_path, "164889003", value, "0.5")
    assert binary[AF]


@pytest.mark.parametrize("value", ["0", "yes", "2", "", "nan", "TRUE", "0.5"])
def test_anything_else_is_a_negative_binary(tmp_path, value):
    binary, _ = read_one(tmp_path, "164889003", value, "0.5")
    assert not binary[AF]


@pytest.mark.parametrize("value", ["", "nan", "inf", "-inf", "abc"])
def test_non_finite_scalars_count_as_zero(tmp_path, value):
    _, scalar = read_one(tmp_path, "164889003,426783006", "0,0", f"{value},0.5")
    assert scalar[AF] == 0.0
    assert scalar[NSR] == 0.5


def test_a_non_finite_duplicate_counts_as_zero_in_the_mean(tmp_path):
    _, scalar = read_one(tmp_path, "164889003,164889003", "0,0", "nan,0.6")
    assert scalar[AF] == pytest.approx(0.3)


def test_short_output_file_is_all_negative_with_a_warning(tmp_path, caplog):
    (tmp_path / "r.csv").write_text("#r\n164889003\n1\n")
    with caplog.at_level(logging.WARNING):
        binary, scalar = evaluate.load_classifier_outputs([tmp_path / "r.csv"], default_class_table())
    assert not binary.any() and not scalar.any()
    assert "r.csv" in caplog.text and "all-negative" in caplog.text


def test_ragged_output_file_is_all_negative_with_a_warning(tmp_path, caplog):
    write_output(tmp_path, "r", "164889003,426783006", "1,1", "0.9")
    with caplog.at_level(logging.WARNING):
        binary, _ = evaluate.load_classifier_outputs([tmp_path / "r.csv"], default_class_table())
    assert not binary.any()
    assert "r.csv" in caplog.text


def test_output_files_listing_classes_differently_are_each_read_as_alone(tmp_path, caplog):
    # One call reads many files at once; each row must be what reading that file alone gives.
    contents = [
        ("164889003,426783006", "1,0", "0.9,0.1"),
        ("426783006,164889003", "True,0", "0.3,nan"),
        ("164889003", "1", "0.5,0.6"),  # ragged: all-negative with a warning
        ("164889003,426783006", "0,1.0", "0.2,0.8"),
        ("713427006,59118001,999", "1,0,1", "0.4,0.2,0.9"),
        ("164889003,426783006", " 1 , 0 ", " 0.7 , inf "),
    ]
    files = []
    for i, (classes, binary, scalar) in enumerate(contents):
        write_output(tmp_path, f"r{i}", classes, binary, scalar)
        files.append(tmp_path / f"r{i}.csv")
    table = default_class_table()
    with caplog.at_level(logging.WARNING):
        binary, scalar = evaluate.load_classifier_outputs(files, table)
    for i, output_file in enumerate(files):
        alone_binary, alone_scalar = evaluate.load_classifier_outputs([output_file], table)
        assert binary[i].tolist() == alone_binary[0].tolist()
        assert scalar[i].tolist() == alone_scalar[0].tolist()
    assert np.flatnonzero(binary[1]).tolist() == [NSR] and scalar[1, [AF, NSR]].tolist() == [0.0, 0.3]
    assert not binary[2].any() and "r2.csv" in caplog.text
    assert scalar[4, CRBBB] == pytest.approx(0.3) and binary[4, CRBBB]
    assert binary[5, AF] and scalar[5, [AF, NSR]].tolist() == [0.7, 0.0]


@pytest.mark.parametrize(
    "binaries, expected",
    [
        (["1,0", "T,t", "0,2", " ,x"], [[1, 0], [1, 1], [0, 0], [0, 0]]),  # one character each
        ([",11", "1,"], [[0, 0], [1, 0]]),  # as long as one character each, but not
        (["1.0,0", "true,1"], [[1, 0], [1, 1]]),
    ],
)
def test_binary_entries_of_one_character_or_more(tmp_path, binaries, expected):
    files = []
    for i, binary in enumerate(binaries):
        write_output(tmp_path, f"r{i}", "164889003,426783006", binary, "0.5,0.5")
        files.append(tmp_path / f"r{i}.csv")
    binary, _ = evaluate.load_classifier_outputs(files, default_class_table())
    assert binary[:, [AF, NSR]].astype(int).tolist() == expected


def python_scalar(entry: str) -> float:
    try:
        value = float(entry)
    except ValueError:
        return 0.0
    return value if math.isfinite(value) else 0.0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text("0123456789.eE+-_nNaAiIfFtTyx() \t#", min_size=0, max_size=8), min_size=1, max_size=6)
)
def test_scalar_entries_are_read_as_python_float_reads_them(tmp_path_factory, entries):
    # The fast parse of plain numbers must agree with float() on every entry, the odd ones included.
    folder = tmp_path_factory.mktemp("scalars")
    classes = ",".join(
        ["164889003", "426783006", "164890007", "6374002", "426627000", "270492004"][: len(entries)]
    )
    write_output(folder, "r", classes, ",".join("0" * len(entries)), ",".join(entries))
    _, scalar = evaluate.load_classifier_outputs([folder / "r.csv"], default_class_table())
    table = default_class_table()
    for code, entry in zip(classes.split(","), entries, strict=True):
        assert scalar[0, table.code_index[code]] == python_scalar(entry), entry


def test_output_file_that_is_not_utf8_is_all_negative_with_a_warning(tmp_path, caplog):
    (tmp_path / "r.csv").write_bytes(b"#r\n164889003\n1\n0.5\xff\n")
    with caplog.at_level(logging.WARNING):
        binary, scalar = evaluate.load_classifier_outputs([tmp_path / "r.csv"], default_class_table())
    assert not binary.any() and not scalar.any()
    assert "r.csv: not UTF-8" in caplog.text


def test_output_file_with_crlf_line_ends_is_read(tmp_path):
    (tmp_path / "r.csv").write_bytes(b"#r\r\n164889003\r\n1\r\n0.5\r\n")
    binary, scalar = evaluate.load_classifier_outputs([tmp_path / "r.csv"], default_class_table())
    assert binary[0, AF] and scalar[0, AF] == 0.5


# Label folders and evaluate_model


def test_dx_line_with_a_space_is_read(tmp_path):
    header = tmp_path / "r.hea"
    header.write_text("r 1 500 5000\nr.mat 16 1000/mV 16 0 0 0 0 I\n# Dx: 59118001,999\n")
    labels = evaluate.load_labels([header], default_class_table())
    assert np.flatnonzero(labels[0]).tolist() == [CRBBB]


@pytest.mark.real_data
def test_real_header_with_spaced_dx_line_is_labelled(challenge_dir, tmp_path):
    shutil.copy(challenge_dir / "Q0013.hea", tmp_path)  # "# Dx: 427172004,428750005"
    labels = evaluate.load_labels([tmp_path / "Q0013.hea"], default_class_table())
    assert np.flatnonzero(labels[0]).tolist() == [default_class_table().code_index["427172004"]]


def test_label_file_with_a_record_line_and_a_dx_line_only_is_scored(folders):
    # Label files written by hand: no signal lines, though the record line announces 12 leads.
    labels, outputs = folders
    (labels / "A1.hea").write_text("A1 12 500 5000\n#Dx: 164889003\n")
    (labels / "A2.hea").write_text("#Dx: 426783006\n")
    write_output(outputs, "A1", "164889003,426783006", "1,0", "0.9,0.1")
    write_output(outputs, "A2", "164889003,426783006", "0,1", "0.2,0.8")
    scores = evaluate.evaluate_model(labels, outputs)
    assert scores.accuracy == 1.0 and scores.challenge_metric == 1.0


def test_label_files_are_sorted_and_hidden_files_skipped(folders):
    labels, _ = folders
    for name in ("B2", "A1", ".hidden"):
        write_header(labels, name, "#Dx: 164889003")
    (labels / "C3.HEA").write_text("")
    assert [Path(p).name for p in evaluate.find_label_files(labels)] == ["A1.hea", "B2.hea"]


def test_empty_label_folder_is_an_error(folders):
    labels, outputs = folders
    with pytest.raises(FileNotFoundError, match="no label files"):
        evaluate.evaluate_model(labels, outputs)


def test_missing_label_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="label folder not found"):
        evaluate.evaluate_model(tmp_path / "nope", tmp_path)


def test_missing_output_file_is_an_error_naming_both_files(folders):
    labels, outputs = folders
    write_header(labels, "A1", "#Dx: 164889003")
    with pytest.raises(FileNotFoundError, match=r"outputs/A1\.csv.*labels/A1\.hea"):
        evaluate.evaluate_model(labels, outputs)


def test_evaluate_model_of_perfect_outputs(folders):
    labels, outputs = folders
    table = default_class_table()
    write_header(labels, "A1", "#Dx: 164889003,713427006")
    write_header(labels, "A2", "# Dx: 426783006")
    write_output(outputs, "A1", "164889003,713427006|59118001", "1,1", "0.9,0.8")
    write_output(outputs, "A2", "426783006,164889003", "1,0", "0.7,0.1")
    scores = evaluate.evaluate_model(labels, outputs)
    assert scores.classes == list(table.codes)
    assert scores.accuracy == 1.0
    assert scores.challenge_metric == pytest.approx(1.0)
    # Each labelled class's positive is above its negative (0 where A2 or A1 has no entry); the other
    # 23 classes have no positives, so their AUROC is NaN.
    assert scores.auroc_classes[[AF, CRBBB, NSR]].tolist() == [1.0, 1.0, 1.0]
    assert np.count_nonzero(np.isnan(scores.auroc_classes)) == 23
    assert scores.f_measure_classes[[AF, CRBBB, NSR]].tolist() == [1.0, 1.0, 1.0]
    assert scores.auroc_classes.shape == scores.auprc_classes.shape == scores.f_measure_classes.shape == (26,)


def test_scores_file_format():
    scores = scoring.compute_scores(
        np.eye(26, dtype=bool)[[0, 14]], np.eye(26, dtype=bool)[[0, 1]], np.eye(26)[[0, 14]]
    )
    lines = scoring.format_scores(scores).splitlines()
    assert lines[0] == "AUROC,AUPRC,Accuracy,F-measure,Challenge metric"
    assert lines[1].split(",")[2] == "0.500"
    assert all(len(v.split(".")[1]) == 3 for v in lines[1].split(","))


def test_class_scores_file_format():
    scores = scoring.compute_scores(np.eye(26, dtype=bool)[:2], np.eye(26, dtype=bool)[:2], np.eye(26)[:2])
    rows = [line.split(",") for line in scoring.format_class_scores(scores).splitlines()]
    assert [row[0] for row in rows] == ["Classes", "AUROC", "AUPRC", "F-measure"]
    assert rows[0][5] == "164909002|733534002"
    assert rows[0][16] == "284470004|63593006"
    assert rows[1][1] == "1.000" and rows[1][3] == "nan"
    assert all(len(row) == 27 for row in rows)


def test_no_runtime_warning_leaks_from_a_degenerate_evaluation():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scoring.compute_scores(
            np.zeros((1, 26), dtype=bool), np.zeros((1, 26), dtype=bool), np.zeros((1, 26))
        )
