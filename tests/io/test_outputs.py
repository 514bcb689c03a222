import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from ecgcrnn.io.outputs import is_finite_number, is_integer, is_number, load_outputs, save_outputs


def test_save_outputs_writes_the_four_line_format(tmp_path):
    path = tmp_path / "A0001.csv"
    save_outputs(path, "A0001", ["164889003", "426783006"], [1, 0], [0.75, 0.25])
    assert path.read_text() == "#A0001\n164889003,426783006\n1,0\n0.75,0.25\n"


def test_save_outputs_writes_labels_as_integers(tmp_path):
    path = tmp_path / "r.csv"
    save_outputs(path, "r", ["1", "2", "3"], [True, 0.0, 1.0], [0.5, 0.5, 0.5])
    assert path.read_text().splitlines()[2] == "1,0,1"


def test_probabilities_round_trip_exactly(tmp_path):
    path = tmp_path / "r.csv"
    values = [0.1 + 0.2, 1 / 3, 1e-300]
    save_outputs(path, "r", ["1", "2", "3"], [0, 0, 0], values)
    assert load_outputs(path)[3] == tuple(values)


def test_a_code_set_is_written_sorted_and_joined(tmp_path):
    path = tmp_path / "r.csv"
    save_outputs(path, "r", [frozenset({"733534002", "164909002"})], [1], [0.9])
    assert path.read_text().splitlines()[1] == "164909002|733534002"


def test_unequal_lengths_raise_naming_the_file_and_write_nothing(tmp_path):
    path = tmp_path / "r.csv"
    with pytest.raises(ValueError, match="r.csv: expected as many labels"):
        save_outputs(path, "r", ["1", "2"], [1], [0.5, 0.5])
    assert list(tmp_path.iterdir()) == []


def test_a_label_other_than_0_or_1_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="r.csv: labels must be 0 or 1"):
        save_outputs(tmp_path / "r.csv", "r", ["1"], [2], [0.5])


def test_failed_replace_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "r.csv"
    path.write_text("old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save_outputs(path, "r", ["1"], [1], [0.5])
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]


def test_load_outputs_returns_stripped_tuples(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("#r7\n 1 , 2|3 \n True, 0\n0.5 , 0.25\n")
    assert load_outputs(path) == ("r7", ("1", "2|3"), ("True", "0"), (0.5, 0.25))


def test_load_outputs_strips_crlf(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"#r\r\n1,2\r\n1,0\r\n0.5,0.5\r\n")
    assert load_outputs(path) == ("r", ("1", "2"), ("1", "0"), (0.5, 0.5))


def test_load_outputs_reads_non_finite_probabilities_as_nan(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("#r\n1,2,3,4,5\n0,0,0,0,0\n,nan,inf,-inf,abc\n")
    assert all(math.isnan(p) for p in load_outputs(path)[3])


def test_load_outputs_of_a_short_file_raises_naming_it(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("#r\n1,2\n1,0\n")
    with pytest.raises(ValueError, match="short.csv: expected four lines"):
        load_outputs(path)


@pytest.mark.parametrize(
    ("x", "number", "integer", "finite"),
    [
        ("1", True, True, True),
        ("1.0", True, True, True),
        (" 2.5 ", True, False, True),
        ("nan", True, False, False),
        ("inf", True, False, False),
        ("", False, False, False),
        ("abc", False, False, False),
        (None, False, False, False),
        (3, True, True, True),
    ],
)
def test_number_predicates_follow_the_helper(x, number, integer, finite):
    assert (is_number(x), is_integer(x), is_finite_number(x)) == (number, integer, finite)


def test_atomic_replacing_keeps_the_destinations_name_at_the_end_of_the_temporary(tmp_path):
    from ecgcrnn.io.atomic import replacing

    with replacing(tmp_path / "last.keras") as temporary:
        assert temporary.parent == tmp_path and temporary.name.endswith(".last.keras")
        temporary.write_text("complete")

    assert [path.name for path in tmp_path.iterdir()] == ["last.keras"]


def test_save_arrays_writes_under_the_name_given_what_np_load_reads(tmp_path):
    from ecgcrnn.io.atomic import save_array, save_arrays

    save_array(tmp_path / "one.array", np.arange(3))
    save_arrays(tmp_path / "two.arrays", first=np.ones(2), second=np.array(5))

    assert sorted(path.name for path in tmp_path.iterdir()) == ["one.array", "two.arrays"]
    np.testing.assert_array_equal(np.load(tmp_path / "one.array"), np.arange(3))
    with np.load(tmp_path / "two.arrays") as saved:
        np.testing.assert_array_equal(saved["first"], np.ones(2))
        assert int(saved["second"]) == 5


# Writes half of a large array through save_array, then is killed outright (SIGKILL: no clean-up).
_KILLED_WRITE = """
import os, signal, sys
import numpy as np
from numpy.lib import format
from ecgcrnn.io.atomic import save_array

write_array = format.write_array

def write_half_and_die(file, array, *args, **kwargs):
    write_array(file, array[: len(array) // 2], *args, **kwargs)
    file.flush()
    os.kill(os.getpid(), signal.SIGKILL)

format.write_array = write_half_and_die
save_array(sys.argv[1], np.arange(4_000_000, dtype=np.float64))
"""


def test_save_array_killed_half_way_leaves_the_earlier_file_whole_under_its_name(tmp_path):
    from ecgcrnn.io.atomic import save_array

    destination = tmp_path / "signals.npy"
    save_array(destination, np.arange(10))

    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_WRITE, str(destination)], capture_output=True, text=True, timeout=120
    )

    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    leftovers = [path for path in tmp_path.iterdir() if path != destination]
    assert leftovers and all(path.name.startswith(".") for path in leftovers)  # the temporary, half written
    assert max(path.stat().st_size for path in leftovers) > 1_000_000
    np.testing.assert_array_equal(np.load(destination), np.arange(10))
