from pathlib import Path

import numpy as np
import pytest
from helpers import SHARED_WEIGHTS

import ecgcrnn
from ecgcrnn.domain import (
    NORMAL_CODE,
    WEIGHTS_FILE,
    class_string,
    default_class_table,
    load_class_table,
)


def write_table(path, rows):
    path.write_text("\n".join(",".join(row) for row in rows) + "\n")
    return path


def test_default_table_has_the_26_scored_classes_in_weights_order():
    table = default_class_table()
    assert len(table) == 26
    assert table.names[0] == "164889003"
    assert table.names[4] == "733534002|164909002"
    assert table.names[-1] == "59931005"


def test_a_pair_entry_is_one_class_holding_both_codes():
    table = default_class_table()
    assert table.codes[4] == frozenset({"733534002", "164909002"})
    assert table.code_index["733534002"] == table.code_index["164909002"] == 4
    assert sum(len(codes) for codes in table.codes) == 30


def test_abbreviations_follow_the_class_order():
    table = default_class_table()
    assert table.abbreviations[:5] == ("AF", "AFL", "BBB", "Brady", "CLBBB|LBBB")
    assert table.abbreviations[table.normal_index] == "NSR"


def test_weights_are_a_read_only_26_by_26_matrix_with_unit_diagonal():
    weights = default_class_table().weights
    assert weights.shape == (26, 26)
    assert np.all(np.diag(weights) == 1.0)
    assert weights[0, 1] == 0.5  # AF vs AFL
    assert not weights.flags.writeable


def test_normal_class_is_sinus_rhythm():
    table = default_class_table()
    assert NORMAL_CODE == "426783006"
    assert table.codes[table.normal_index] == frozenset({"426783006"})


def test_default_table_is_read_once():
    assert default_class_table() is default_class_table()


def test_weights_file_ships_inside_the_package():
    assert WEIGHTS_FILE.is_file() and WEIGHTS_FILE.is_relative_to(Path(ecgcrnn.__file__).parent)


@pytest.mark.real_data
@pytest.mark.skipif(not SHARED_WEIGHTS.exists(), reason="../shared/scoring/weights.csv not found")
def test_weights_file_is_the_challenges_copy():
    assert WEIGHTS_FILE.read_bytes() == SHARED_WEIGHTS.read_bytes()


def test_encode_labels_sets_the_classes_of_scored_codes_and_ignores_others():
    vector = default_class_table().encode(["164889003", "426783006", "999999"])
    assert vector.shape == (26,)
    assert vector.dtype == np.float32
    assert np.flatnonzero(vector).tolist() == [0, 14]


def test_encode_labels_maps_either_code_of_a_pair_to_its_class():
    assert np.flatnonzero(default_class_table().encode(["59118001"])).tolist() == [5]
    assert np.flatnonzero(default_class_table().encode([" 713427006 "])).tolist() == [5]


def test_encode_labels_of_no_codes_is_all_zero():
    assert not default_class_table().encode([]).any()


def test_encode_with_bool_dtype():
    assert default_class_table().encode(["164890007"], dtype=bool).tolist()[:2] == [False, True]


def test_load_class_table_reads_a_small_table(tmp_path):
    path = write_table(tmp_path / "w.csv", [["", "1|2", "3"], ["1|2", "1", "0.5"], ["3", "0.5", "nan"]])
    table = load_class_table(path)
    assert table.codes == (frozenset({"1", "2"}), frozenset({"3"}))
    assert table.abbreviations == ("1|2", "3")
    assert np.isnan(table.weights[1, 1])


def test_a_table_without_the_normal_class_has_no_normal_index(tmp_path):
    table = load_class_table(write_table(tmp_path / "w.csv", [["", "1"], ["1", "1"]]))
    with pytest.raises(ValueError, match="w.csv: normal class 426783006"):
        _ = table.normal_index


def test_non_square_weights_file_is_rejected_naming_it(tmp_path):
    path = write_table(tmp_path / "bad.csv", [["", "1", "2"], ["1", "1", "0", "0"], ["2", "0", "1"]])
    with pytest.raises(ValueError, match="bad.csv: row 2 has 3 weights, expected 2"):
        load_class_table(path)


def test_non_numeric_weight_is_rejected_naming_the_file(tmp_path):
    path = write_table(tmp_path / "bad.csv", [["", "1", "2"], ["1", "1", "x"], ["2", "0", "1"]])
    with pytest.raises(ValueError, match="bad.csv: weight 'x' is not a number"):
        load_class_table(path)


def test_missing_row_is_rejected_naming_the_file(tmp_path):
    path = write_table(tmp_path / "bad.csv", [["", "1", "2"], ["1", "1", "0"]])
    with pytest.raises(ValueError, match="bad.csv: expected 2 rows of weights"):
        load_class_table(path)


def test_row_class_differing_from_the_header_is_rejected(tmp_path):
    path = write_table(tmp_path / "bad.csv", [["", "1", "2"], ["1", "1", "0"], ["3", "0", "1"]])
    with pytest.raises(ValueError, match="bad.csv: row 3 is class '3', expected '2'"):
        load_class_table(path)


def test_class_string_sorts_the_codes_as_strings():
    assert class_string({"733534002", "164909002"}) == "164909002|733534002"
    assert class_string({"63593006", "284470004"}) == "284470004|63593006"
