"""Properties of the record reader over generated input: whatever a header or a MATLAB file holds, the reader
gives a record or its own error naming the file, and a record it writes reads back as it was."""

import io
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import scipy.io
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecgcrnn.domain import STANDARD_LEADS, default_class_table
from ecgcrnn.io.matfile import read_mat
from ecgcrnn.io.records import (
    MAX_FS_HZ,
    MIN_FS_HZ,
    Header,
    RecordError,
    checksum,
    get_age,
    get_labels,
    get_sex,
    load_header,
    load_recording,
    parse_header,
    to_millivolts,
    write_record,
)
from ecgcrnn.scoring.evaluate import load_labels

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Tokens a header field may hold: numbers of every form float() and int() read (and some they refuse),
# the gain forms of real headers, and short arbitrary text.
_ODD_NUMBERS = ["0", "-1", "1e400", "-1e400", "inf", "-inf", "nan", "1e-320", "9" * 30, "0x10", "1_000", "+5"]
_GAIN_FORMS = ["1000/mV", "1000.0(0)/mV", "1000.0(-5)/mV", "200", "1/uV", "1(inf)/mV", "1(nan)/mV", "(1)/mV"]
_NUMBERS = st.one_of(
    st.integers(-(2**40), 2**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(_ODD_NUMBERS),
)
# A gain field: a number, a baseline in parentheses or not, a unit or not.
_GAINS = st.tuples(
    _NUMBERS,
    st.one_of(st.just(""), _NUMBERS.map(lambda number: f"({number})"), st.sampled_from(["(", ")", "()"])),
    st.one_of(st.just(""), st.sampled_from(["/mV", "/uV", "/V", "/", "/furlong", "/mV/mV"])),
).map("".join)
_TOKENS = st.one_of(
    _NUMBERS,
    _GAINS,
    st.sampled_from(_GAIN_FORMS + ["500/100(0)", "16+24", "12", "500", "I", "aVR", ""]),
    st.text(max_size=8),
)


def _line(min_tokens: int, max_tokens: int):
    return st.lists(_TOKENS, min_size=min_tokens, max_size=max_tokens).map(" ".join)


_VALID = [
    ["r", "2", "500", "10"],
    ["r.mat", "16+24", "1000/mV", "16", "0", "28", "-1716", "0", "I"],
    ["r.mat", "16+24", "1000.0(-5)/mV", "16", "0", "28", "-1716", "0", "aVR"],
]


@st.composite
def _mutated_headers(draw):
    """A valid two-lead header, its gains drawn, with a few of its tokens replaced, dropped or doubled."""
    lines = [list(tokens) for tokens in _VALID]
    for tokens in lines[1:]:
        tokens[2] = draw(st.one_of(st.just(tokens[2]), _GAINS))
    for _ in range(draw(st.integers(0, 4))):
        tokens = lines[draw(st.integers(0, len(lines) - 1))]
        index = draw(st.integers(0, len(tokens) - 1))
        action = draw(st.sampled_from(["replace", "replace", "drop", "double"]))
        if action == "replace":
            tokens[index] = draw(_TOKENS)
        elif action == "drop":
            del tokens[index]
        else:
            tokens.insert(index, tokens[index])
    comments = draw(st.lists(st.text(max_size=20).map(lambda text: "#" + text), max_size=3))
    return "\n".join([" ".join(tokens) for tokens in lines] + comments)


# A header's text: arbitrary text; a valid header with a few tokens changed; or a record line, a few signal
# lines and comments, each of arbitrary tokens, joined by any of the line ends str.splitlines() knows.
_HEADER_TEXTS = st.one_of(
    st.text(),
    _mutated_headers(),
    st.tuples(
        _line(0, 6),
        st.lists(_line(7, 11), max_size=3),
        st.lists(st.text(max_size=20).map(lambda text: "#" + text), max_size=3),
        st.sampled_from(["\n", "\r\n", "\r", "\x0b", "\u2028"]),
    ).map(lambda parts: parts[3].join([parts[0], *parts[1], *parts[2]])),
)


def _assert_names(error: RecordError, source: str) -> None:
    assert str(error).startswith(f"{source}: "), str(error)


@FUZZ
@given(_HEADER_TEXTS)
def test_any_header_text_parses_or_raises_a_record_error_naming_the_source(text):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            header = parse_header(text, source="fuzz.hea")
        except RecordError as error:
            _assert_names(error, "fuzz.hea")
            return
    assert isinstance(header, Header)
    assert MIN_FS_HZ <= header.fs_hz <= MAX_FS_HZ and header.num_leads == len(header.signals)
    get_labels(header), get_age(header), get_sex(header)
    recording = np.tile(np.array([0, 1, -1, 32767, -32768], np.int16), (header.num_leads, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            mv = to_millivolts(header, recording)
        except RecordError as error:
            _assert_names(error, "fuzz.hea")
            return
    assert mv.dtype == np.float32 and np.isnan(mv[:, 4]).all() and np.isfinite(mv[:, :4]).all()


@FUZZ
@given(
    st.one_of(st.binary(max_size=300), _HEADER_TEXTS.map(lambda text: text.encode("utf-8", "surrogatepass")))
)
def test_any_header_file_loads_or_raises_a_record_error_naming_the_file(content):
    with tempfile.TemporaryDirectory() as folder:
        header_file = Path(folder) / "fuzz.hea"
        header_file.write_bytes(content)
        try:
            text = load_header(header_file)
        except RecordError as error:
            _assert_names(error, str(header_file))
            return
    assert isinstance(parse_header(text), Header)


def _level4_bytes(kind: int, rows: int, columns: int, imaginary: int, name: bytes, data: bytes, order: str):
    header = np.array([kind, rows, columns, imaginary, len(name)], f"{order}i4").tobytes()
    return header + name + data


def _saved(variables: dict, **options) -> bytes:
    stream = io.BytesIO()
    scipy.io.savemat(stream, variables, **options)
    return stream.getvalue()


_MATRIX = np.arange(-6, 6, dtype=np.int16).reshape(2, 6)
# Files scipy writes (level 4 and 5, compressed or not, numbers, complex numbers, cells, text), to be damaged.
_SAVED = [
    _saved({"val": _MATRIX}, format="4"),
    _saved({"val": _MATRIX}),
    _saved({"val": _MATRIX}, do_compression=True),
    _saved({"val": _MATRIX.astype(np.float64) + 1j}),
    _saved({"val": np.array([[np.ones(2)]], dtype=object), "other": "text"}),
    _saved({"x": _MATRIX, "val": _MATRIX.T.copy()}, format="4"),
]


@st.composite
def _damaged(draw):
    """One of :data:`_SAVED` with a few bytes replaced, removed or inserted, or cut short."""
    content = bytearray(draw(st.sampled_from(_SAVED)))
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(content) - 1))
        action = draw(st.sampled_from(["replace", "replace", "remove", "insert", "cut"]))
        if action == "replace":
            content[index] = draw(st.integers(0, 255))
        elif action == "remove":
            del content[index]
        elif action == "insert":
            content.insert(index, draw(st.integers(0, 255)))
        else:
            del content[index:]
        if not content:
            break
    return bytes(content)


# MATLAB files: arbitrary bytes, bytes after a level 5 file's "MATLAB" text, damaged files of both levels,
# and level 4 matrix headers with plausible and absurd fields; each maybe followed by more bytes.
_MAT_CONTENTS = st.one_of(
    _damaged(),
    st.binary(max_size=200),
    st.binary(max_size=300).map(lambda data: b"MATLAB 5.0 MAT-file".ljust(116) + data),
    st.builds(
        _level4_bytes,
        kind=st.one_of(
            st.sampled_from([0, 10, 20, 30, 40, 50, 1030, 1, 60, 100]), st.integers(-(2**31), 2**31 - 1)
        ),
        rows=st.one_of(st.integers(0, 4), st.integers(-(2**31), 2**31 - 1)),
        columns=st.one_of(st.integers(0, 6), st.integers(-(2**31), 2**31 - 1)),
        imaginary=st.sampled_from([0, 0, 1, -1]),
        name=st.sampled_from([b"val\0", b"val", b"x\0", b"", b"\xff\xfe\0"]),
        data=st.binary(max_size=120),
        order=st.sampled_from("<>"),
    ),
)


@FUZZ
@given(_MAT_CONTENTS, st.binary(max_size=40))
def test_any_mat_file_gives_a_matrix_or_a_record_error_naming_the_file(content, more):
    with tempfile.TemporaryDirectory() as folder:
        mat_file = Path(folder) / "fuzz.mat"
        mat_file.write_bytes(content + more)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                matrix = read_mat(mat_file)
            except RecordError as error:
                _assert_names(error, str(mat_file))
                return
    assert isinstance(matrix, np.ndarray) and matrix.ndim == 2 and matrix.dtype.kind in "iuf"
    assert matrix.flags.c_contiguous


@FUZZ
@given(
    st.sampled_from(["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "float32", "float64"]),
    st.integers(0, 4),
    st.integers(0, 9),
    st.booleans(),
    st.sampled_from([(), ("a",), ("a", "zz")]),
    st.randoms(use_true_random=False),
)
def test_level5_files_scipy_writes_read_as_scipy_reads_them(dtype, rows, columns, compressed, others, rng):
    info = np.iinfo(dtype) if dtype[0] in "iu" else np.finfo(dtype)
    values = [
        rng.uniform(-1e6, 1e6) if dtype[0] == "f" else rng.randint(info.min, info.max)
        for _ in range(rows * columns)
    ]
    matrix = np.array(values, dtype=dtype).reshape(rows, columns)
    variables = {name: np.full((1, 2), index) for index, name in enumerate(others)} | {"val": matrix}
    with tempfile.TemporaryDirectory() as folder:
        mat_file = Path(folder) / "v5.mat"
        scipy.io.savemat(mat_file, variables, do_compression=compressed)
        expected = scipy.io.loadmat(mat_file)["val"]
        read = read_mat(mat_file)
    assert read.dtype == expected.dtype == matrix.dtype and read.flags.c_contiguous
    assert read.shape == expected.shape == matrix.shape
    np.testing.assert_array_equal(read, expected)
    np.testing.assert_array_equal(read, matrix)


_UNITS = ["mV", "mv", "uV", "\u00b5V", "V", ""]
_CODES = ["164889003", "59118001", "426783006", "713427006", "999", "164934002"]


@st.composite
def _records(draw):
    """A header's text (leads, rate, gains, baselines, units, comments drawn) and an int16 recording."""
    leads = draw(st.lists(st.sampled_from(STANDARD_LEADS + ("X1",)), min_size=1, max_size=13, unique=True))
    fs_hz = draw(
        st.one_of(st.sampled_from([MIN_FS_HZ, 257.0, 500.0, 1000.0, MAX_FS_HZ]), st.floats(50, 10_000))
    )
    samples = draw(st.integers(0, 40))
    lines = [f"r {len(leads)} {fs_hz!r} {samples}"]
    for lead in leads:
        gain = draw(st.one_of(st.sampled_from([200.0, 1000.0, 4880.0]), st.floats(0.5, 1e5)))
        baseline = draw(st.one_of(st.none(), st.integers(-1000, 1000)))
        units = draw(st.sampled_from(_UNITS))
        field = f"{gain!r}" + ("" if baseline is None else f"({baseline})") + (f"/{units}" if units else "")
        adc_zero, block = draw(st.integers(-100, 100)), draw(st.integers(0, 4))
        lines.append(f"r.mat 16+24 {field} 16 {adc_zero} 0 0 {block} {lead}")
    age = draw(st.one_of(st.none(), st.integers(0, 110).map(str), st.just("NaN")))
    sex = draw(st.one_of(st.none(), st.sampled_from(["Male", "Female", "Unknown"])))
    codes = draw(st.one_of(st.none(), st.lists(st.sampled_from(_CODES), min_size=1, max_size=4)))
    lines += [] if age is None else [f"#Age: {age}"]
    lines += [] if sex is None else [f"#Sex: {sex}"]
    lines += [] if codes is None else [f"#Dx: {','.join(codes)}"]
    recording = draw(
        st.lists(st.integers(-32768, 32767), min_size=len(leads) * samples, max_size=len(leads) * samples)
    )
    recording = np.array(recording, np.int16).reshape(len(leads), samples)
    kept = draw(
        st.permutations(leads).flatmap(lambda order: st.integers(1, len(order)).map(lambda n: order[:n]))
    )
    return "\n".join(lines) + "\n", recording, kept


@ROUND_TRIPS
@given(_records())
def test_a_written_record_reads_back_with_the_same_fields_and_values(record):
    text, recording, kept = record
    header = parse_header(text, source="r.hea")
    rows = header.lead_indices(kept)
    with tempfile.TemporaryDirectory() as folder:
        header_file = write_record(folder, header, recording, kept)
        written = parse_header(load_header(header_file))
        values = load_recording(header_file.with_suffix(".mat"), written)
    assert (written.record_name, written.fs_hz, written.num_samples) == (
        "r",
        header.fs_hz,
        header.num_samples,
    )
    assert written.leads == tuple(header.leads[i] for i in rows)
    fields = (
        "file_name",
        "fmt",
        "gain",
        "baseline",
        "units",
        "adc_resolution",
        "adc_zero",
        "block_size",
        "name",
    )
    for signal, row in zip(written.signals, rows, strict=True):
        assert [getattr(signal, f) for f in fields] == [getattr(header.signals[row], f) for f in fields]
    assert values.dtype == np.int16
    np.testing.assert_array_equal(values, recording[rows])
    assert [s.initial_value for s in written.signals] == [int(v[0]) if v.size else 0 for v in values]
    assert [s.checksum for s in written.signals] == [checksum(v) for v in values]
    assert written.comments == header.comments and get_labels(written) == get_labels(header)
    assert get_sex(written) == get_sex(header)
    age, expected_age = get_age(written), get_age(header)
    assert age == expected_age or (math.isnan(age) and math.isnan(expected_age))
    np.testing.assert_array_equal(to_millivolts(written, values), to_millivolts(header, recording, kept))


def _challenge_labels(text: str) -> set[str]:
    """The codes the Challenge's evaluator reads: from each line starting '#Dx', the part after the first
    ': ' (up to a second one), split on commas and stripped; a line without ': ' gives none."""
    codes = set()
    for line in text.split("\n"):
        if line.startswith("#Dx") and ": " in line:
            codes.update(entry.strip() for entry in line.split(": ")[1].split(","))
    return codes


_DX_LINES = st.lists(
    st.lists(
        st.sampled_from(_CODES + ["", " 426783006 ", "713427006 | 59118001"]), min_size=1, max_size=4
    ).map(lambda codes: "#Dx: " + ",".join(codes)),
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(_DX_LINES, st.sampled_from(["#Age: 60", "#Sex: Male", "#Rx: Unknown"]))
def test_label_files_give_the_labels_the_challenges_evaluator_reads(dx_lines, other):
    text = (
        "\n".join(["r 1 500 10", "r.mat 16+24 1000/mV 16 0 0 0 0 I", dx_lines[0], other, *dx_lines[1:]])
        + "\n"
    )
    table = default_class_table()
    expected = np.array([bool(set(codes) & _challenge_labels(text)) for codes in table.codes])
    with tempfile.TemporaryDirectory() as folder:
        label_file = Path(folder) / "r.hea"
        label_file.write_text(text)
        np.testing.assert_array_equal(load_labels([label_file], table)[0], expected)
