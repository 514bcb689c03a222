import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers import REPOSITORY, png_size, save_untrained_model
from matplotlib.backends.backend_agg import FigureCanvasAgg

from ecgcrnn.app import cli
from ecgcrnn.app.show import (
    CALIBRATION_MM,
    GAIN_MM_MV,
    ROW_MM,
    SPEED_MM_S,
    draw_ecg_paper,
    ecg_layout,
    main,
    paper_gain,
    show_record,
)
from ecgcrnn.domain import FIDUCIALS, STANDARD_LEADS, default_class_table
from ecgcrnn.features.measurements import NO_ECG
from ecgcrnn.io.extract import extract_leads
from ecgcrnn.io.records import load_header, load_recording, parse_header, write_record


def saved_model(root, lead_set: str, threshold: float):
    """A tiny untrained model of ``lead_set`` with every class's threshold at ``threshold``."""
    save_untrained_model(root, lead_set, threshold)
    return root


def test_show_draws_a_twelve_lead_record_on_one_landscape_png(synthetic_records, tmp_path):
    reading = show_record(synthetic_records / "C1_15s", tmp_path / "a.png")
    assert reading.record == "C1_15s" and reading.predictions is None
    width, height = png_size(tmp_path / "a.png")
    assert 1400 <= width <= 1900 and 1.5 * height < width  # 250 mm wide, three rows and a rhythm strip


def test_show_draws_a_two_lead_record_one_row_per_lead(synthetic_records, tmp_path):
    (tmp_path / "in").mkdir()
    for suffix in (".hea", ".mat"):
        shutil.copy(synthetic_records / f"C2_10s{suffix}", tmp_path / "in")
    extract_leads(tmp_path / "in", tmp_path / "two", ["II", "V5"])
    assert main([str(tmp_path / "two" / "C2_10s"), "-o", str(tmp_path / "e.png"), "-q"]) == 0
    width, height = png_size(tmp_path / "e.png")
    assert 1400 <= width <= 1900 and height < width / 2


def test_twelve_leads_in_any_order_take_four_columns_over_a_lead_ii_rhythm_strip():
    leads = STANDARD_LEADS[::-1]
    panels, width_mm, height_mm = ecg_layout(leads, 5000, 500.0)
    assert (width_mm, height_mm) == (250.0, 4 * ROW_MM)
    assert [leads[panel.lead] for panel in panels[:3]] == ["I", "II", "III"]
    assert [(panel.start, panel.stop, panel.x_mm) for panel in panels[9:12]] == [(3750, 5000, 187.5)] * 3
    rhythm = panels[-1]
    assert len(panels) == 13 and leads[rhythm.lead] == "II" and (rhythm.start, rhythm.stop) == (0, 5000)


def test_other_lead_sets_take_one_row_per_lead_for_the_whole_time():
    panels, width_mm, height_mm = ecg_layout(("I", "II", "V2"), 2500, 500.0)
    assert (width_mm, height_mm) == (125.0, 3 * ROW_MM)
    assert [(panel.lead, panel.start, panel.stop) for panel in panels] == [
        (0, 0, 2500),
        (1, 0, 2500),
        (2, 0, 2500),
    ]
    assert [panel.y_mm for panel in panels] == [2.5 * ROW_MM, 1.5 * ROW_MM, 0.5 * ROW_MM]  # row middles


@pytest.mark.parametrize(("leads", "marks"), [(("I", "II"), 3), (STANDARD_LEADS, 2)], ids=["two", "twelve"])
def test_every_fiducial_is_marked_where_its_lead_is_drawn_at_its_time(tmp_path, drawn, leads, marks):
    signal = np.zeros((len(leads), 5000))
    positions = np.full((len(leads), 2), np.nan)
    positions[:2] = [[100.0, 2000.0], [2000.0, np.nan]]  # I: beats at 0.2 s and 4 s; II: one at 4 s
    fiducials = dict.fromkeys(FIDUCIALS, positions)
    draw_ecg_paper(signal, leads, 500.0, fiducials, "marks", tmp_path / "m.png")
    marked = [line for line in drawn[0].axes[0].lines if line.get_marker() in ("o", "|")]
    # Two rows show all three beats. In the 4 x 3 layout lead I is drawn from 0 to 2.5 s and lead II from 0
    # to 2.5 s and on the 10 s rhythm strip: I's beat at 0.2 s and II's beat at 4 s (on the strip) remain.
    assert len(marked) == len(FIDUCIALS) and all(len(line.get_xdata()) == marks for line in marked)


def paper_of(drawn, tmp_path, signal, leads, title="R1\nrate 60/min"):
    """The paper's axes of ``signal`` (mV, shape (leads, samples) at 500 Hz) drawn without fiducials."""
    fiducials = dict.fromkeys(FIDUCIALS, np.full((len(leads), 1), np.nan))
    draw_ecg_paper(signal, leads, 500.0, fiducials, title, tmp_path / "p.png")
    return drawn[-1].axes[0]


def lines_of(ax, gid: str) -> list:
    return [line for line in ax.lines if line.get_gid() == gid]


def with_spike(leads, mv: float, lead: int = 0, at: int = 1000) -> np.ndarray:
    """Flat 10 s signals of ``leads`` at 500 Hz, with one 20 ms deflection of ``mv`` in ``lead`` from
    sample ``at``."""
    signal = np.zeros((len(leads), 5000))
    signal[lead, at : at + 10] = mv
    return signal


@pytest.mark.parametrize(("mv", "gain"), [(1.5, GAIN_MM_MV), (-1.5, GAIN_MM_MV), (2.0, 5.0), (-3.0, 5.0)])
def test_the_gain_is_halved_only_when_the_tallest_complex_would_leave_its_row(mv, gain):
    panels, _, _ = ecg_layout(STANDARD_LEADS, 5000, 500.0)
    assert paper_gain(with_spike(STANDARD_LEADS, mv, lead=9, at=4000), panels) == gain  # V4, as in A0004


def test_a_deflection_outside_the_drawn_samples_does_not_halve_the_gain():
    panels, _, _ = ecg_layout(STANDARD_LEADS, 5000, 500.0)  # V4 is drawn from 7.5 s on only
    assert paper_gain(with_spike(STANDARD_LEADS, 3.0, lead=9, at=1000), panels) == GAIN_MM_MV


@pytest.mark.parametrize(("leads", "rows"), [(("I", "II"), 2), (STANDARD_LEADS, 4)], ids=["two", "twelve"])
@pytest.mark.parametrize("mv", [1.0, 3.0], ids=["full", "half"])
def test_every_row_starts_with_a_1_mv_calibration_pulse_at_the_printed_gain(tmp_path, drawn, leads, rows, mv):
    ax = paper_of(drawn, tmp_path, with_spike(leads, mv, lead=1), leads)
    gain = GAIN_MM_MV if mv * GAIN_MM_MV <= ROW_MM / 2 else GAIN_MM_MV / 2
    pulses = lines_of(ax, "calibration")
    assert len(pulses) == rows
    for pulse in pulses:
        x, y = np.asarray(pulse.get_xdata()), np.asarray(pulse.get_ydata())
        top = x[y > y[0]]
        assert np.ptp(y) == pytest.approx(1.0 * gain)  # 1 mV high
        assert np.ptp(top) == pytest.approx(0.2 * SPEED_MM_S)  # 0.2 s wide
        assert x.min() >= -CALIBRATION_MM and x.max() <= 0.0  # before the trace
    assert f"25 mm/s, {gain:g} mm/mV" in ax.get_title(loc="left")


@pytest.mark.parametrize("leads", [("I", "II", "V2"), STANDARD_LEADS], ids=["three", "twelve"])
def test_every_line_of_a_row_stays_within_the_rows_band(tmp_path, drawn, leads):
    signal = np.zeros((len(leads), 5000))
    signal[:, ::500] = 9.0  # far taller than a row even at half gain, up and down
    signal[:, 250::500] = -9.0
    positions = np.tile(np.arange(0.0, 5000.0, 250.0), (len(leads), 1))  # a mark on every deflection
    draw_ecg_paper(signal, leads, 500.0, dict.fromkeys(FIDUCIALS, positions), "R", tmp_path / "p.png")
    ax = drawn[0].axes[0]
    drawn_lines = [line for gid in ("trace", "calibration", "separator") for line in lines_of(ax, gid)]
    assert len(lines_of(ax, "trace")) == len(ecg_layout(leads, 5000, 500.0)[0])
    for line in drawn_lines:
        y = np.asarray(line.get_ydata(), dtype=float)
        row = np.floor(np.median(y) / ROW_MM)
        assert row * ROW_MM <= y.min() and y.max() <= (row + 1) * ROW_MM, line.get_gid()


def test_a_bar_marks_each_place_where_the_printout_changes_lead(tmp_path, drawn):
    ax = paper_of(drawn, tmp_path, np.zeros((12, 5000)), STANDARD_LEADS)
    bars = sorted((line.get_xdata()[0], np.mean(line.get_ydata())) for line in lines_of(ax, "separator"))
    three_rows = [3.5 * ROW_MM, 2.5 * ROW_MM, 1.5 * ROW_MM]
    assert bars == sorted((x, y) for x in (62.5, 125.0, 187.5) for y in three_rows)


def test_a_record_drawn_one_row_per_lead_has_no_lead_change_bars(tmp_path, drawn):
    assert lines_of(paper_of(drawn, tmp_path, np.zeros((2, 5000)), ("I", "II")), "separator") == []


def test_each_lead_is_named_at_its_segments_top_left_on_a_white_box(tmp_path, drawn):
    ax = paper_of(drawn, tmp_path, np.zeros((12, 5000)), STANDARD_LEADS)
    panels, _, _ = ecg_layout(STANDARD_LEADS, 5000, 500.0)
    labels = [text for text in ax.texts if text.get_gid() == "lead"]
    assert [text.get_text() for text in labels] == [STANDARD_LEADS[panel.lead] for panel in panels]
    for text, panel in zip(labels, panels, strict=True):
        x, y = text.get_position()
        assert panel.x_mm < x < panel.x_mm + 5  # at the segment's start
        assert panel.y_mm + ROW_MM / 4 < y <= panel.y_mm + ROW_MM / 2  # in the row's top, above the baseline
        assert text.get_bbox_patch().get_facecolor() == (1.0, 1.0, 1.0, 1.0)


def inside_figure(figure, text) -> bool:
    """Whether ``text`` (a matplotlib Text of ``figure``, not empty) is drawn wholly inside the figure."""
    extent = text.get_window_extent(FigureCanvasAgg(figure).get_renderer())
    assert extent.width > 0 and extent.height > 0
    return (
        extent.x0 >= 0
        and extent.x1 <= figure.bbox.width
        and extent.y0 >= 0
        and extent.y1 <= figure.bbox.height
    )


@pytest.mark.parametrize(
    ("leads", "samples"),
    [(STANDARD_LEADS, 5000), (("I", "II"), 5000), (STANDARD_LEADS, 1000)],
    ids=["twelve", "two", "twelve-2s"],
)
def test_the_title_and_the_footnote_lie_within_the_figure(tmp_path, drawn, leads, samples):
    reading = "; ".join(f"measurement {k} 123 ms" for k in range(12))  # long enough to wrap
    title = f"A0004\n{reading}\n{reading.upper()}"
    ax = paper_of(drawn, tmp_path, with_spike(leads, 3.0, lead=1)[:, :samples], leads, title)
    (title,) = drawn[0].findobj(lambda artist: artist.get_gid() == "title")
    assert title.get_text().startswith("A0004\n")
    assert inside_figure(drawn[0], title) and inside_figure(drawn[0], ax.xaxis.label)


@pytest.mark.real_data
def test_a0004_is_printed_at_half_gain_with_its_name_inside_the_figure(challenge_dir, tmp_path, drawn):
    show_record(challenge_dir / "A0004", tmp_path / "A0004.png")  # V2 to V4 reach past 3 mV
    ax = drawn[0].axes[0]
    title = ax.get_title(loc="left")
    assert title.startswith("A0004\n12 leads (I, II, ") and "25 mm/s, 5 mm/mV (halved" in title
    assert inside_figure(drawn[0], *drawn[0].findobj(lambda artist: artist.get_gid() == "title"))
    assert {round(np.ptp(line.get_ydata()), 6) for line in lines_of(ax, "calibration")} == {5.0}


def test_show_with_a_model_titles_the_predicted_classes_by_abbreviation(synthetic_records, tmp_path, drawn):
    model = saved_model(tmp_path / "model", "twelve", 0.0)
    reading = show_record(synthetic_records / "C1_15s", tmp_path / "a.png", model)
    assert {abbreviation for _, abbreviation, _ in reading.predictions} == set(
        default_class_table().abbreviations
    )
    title = drawn[0].axes[0].get_title(loc="left")
    assert title.startswith("C1_15s\n") and "model: " in title
    png_size(tmp_path / "a.png")


def test_show_with_a_model_says_when_no_class_passes_its_threshold(synthetic_records, tmp_path, capsys):
    model = saved_model(tmp_path / "model", "twelve", 1.0)  # above every untrained output
    assert main([str(synthetic_records / "C1_15s"), str(model), "--text", "-q"]) == 0
    assert "no class above its threshold" in capsys.readouterr().out


def test_show_text_gives_the_measurements_and_the_statements(synthetic_records, capsys):
    assert main([str(synthetic_records / "C1_15s"), "--text", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("C1_15s (12 leads: I, II, ")
    for label in ("rate", "PR", "QRS", "QTc (Bazett)", "P axis", "QRS axis", "T axis", "Interpretation"):
        assert f"\n  {label} " in out or f"\n{label}" in out


def test_show_json_writes_the_reading_for_other_tools(synthetic_records, tmp_path):
    assert main([str(synthetic_records / "C2_10s"), "--json", str(tmp_path / "r.json"), "-q"]) == 0
    reading = json.loads((tmp_path / "r.json").read_text())
    assert reading["record"] == "C2_10s" and reading["measurable"] is True
    assert reading["units"]["PR_ms"] == "ms" and 60 < reading["measurements"]["PR_ms"] < 400
    assert reading["statements"] and reading["predictions"] is None
    assert set(reading["criteria"]) <= set(default_class_table().names)


def test_show_of_a_flat_recording_says_it_cannot_be_measured(synthetic_records, tmp_path, capsys):
    header = parse_header(load_header(synthetic_records / "C2_10s.hea"))
    flat = write_record(tmp_path, header, np.zeros((12, header.num_samples), np.int16), header.leads)
    assert main([str(flat), "--text", "--json", str(tmp_path / "f.json"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "too noisy to measure" in out and " ms" not in out
    reading = json.loads((tmp_path / "f.json").read_text())
    assert reading["measurable"] is False and reading["measurements"]["PR_ms"] is None


def test_show_of_a_noise_recording_says_no_ecg_was_found_instead_of_a_diagnosis(
    synthetic_records, tmp_path, capsys
):
    header = parse_header(load_header(synthetic_records / "C2_10s.hea"))
    noise = np.random.default_rng(5).normal(0.0, 100.0, (12, header.num_samples)).round().astype(np.int16)
    record = write_record(tmp_path, header, noise, header.leads)  # 0.1 mV of white noise
    model = saved_model(tmp_path / "model", "twelve", 0.0)

    assert main([str(record), str(model), "--text", "--json", str(tmp_path / "n.json"), "-q"]) == 0

    out = capsys.readouterr().out
    assert NO_ECG in out and "Interpretation" not in out and "fibrillation" not in out
    reading = json.loads((tmp_path / "n.json").read_text())
    assert reading["measurable"] is False and reading["statements"] == [NO_ECG]
    assert reading["predictions"] == []


def rescaled_record(synthetic_records, folder):
    """C2_10s with every lead rescaled to the same range, as LUDB's Challenge copies are."""
    header = parse_header(load_header(synthetic_records / "C2_10s.hea"))
    recording = load_recording(synthetic_records / "C2_10s.mat", header).astype(np.float64)
    low, span = recording.min(axis=1, keepdims=True), np.ptp(recording, axis=1, keepdims=True)
    rescaled = np.round((recording - low) / span * 1000).astype(np.int16)
    return write_record(folder, header, rescaled, header.leads)


def test_show_of_a_recording_with_every_lead_rescaled_says_it_reads_no_voltage(
    synthetic_records, tmp_path, capsys
):
    record = rescaled_record(synthetic_records, tmp_path)

    assert main([str(record), "--text", "--json", str(tmp_path / "r.json"), "-q"]) == 0

    out = capsys.readouterr().out
    assert "rescaled, not as recorded" in out and "QRS axis          not measured" not in out
    reading = json.loads((tmp_path / "r.json").read_text())
    assert reading["amplitudes_recorded"] is False and reading["measurements"]["limb_QRS_max_mV"] is None
    assert reading["measurements"]["QRS_ms"] is not None


def test_the_printout_of_a_recording_with_every_lead_rescaled_says_its_gain_is_not_the_recordings(
    synthetic_records, tmp_path, drawn
):
    show_record(rescaled_record(synthetic_records, tmp_path), tmp_path / "r.png")

    assert "amplitudes not read: every lead spans the same range" in drawn[0].axes[0].get_title(loc="left")


def test_show_json_says_the_amplitudes_of_a_recorded_ecg_were_read(synthetic_records, tmp_path):
    assert main([str(synthetic_records / "C2_10s"), "--json", str(tmp_path / "r.json"), "-q"]) == 0

    assert json.loads((tmp_path / "r.json").read_text())["amplitudes_recorded"] is True


@pytest.mark.real_data
def test_show_reads_a_real_record_with_atrial_fibrillation(challenge_dir, capsys):
    assert main([str(challenge_dir / "A0004"), "--text", "-q"]) == 0
    assert "atrial fibrillation" in capsys.readouterr().out


@pytest.mark.slow
def test_show_with_a_model_loads_tensorflow_without_its_messages_of_a_missing_gpu(
    synthetic_records, tmp_path
):
    model = saved_model(tmp_path / "model", "twelve", 0.5)
    environ = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    command = [sys.executable, "-m", "ecgcrnn.app.show", synthetic_records / "C1_15s", model, "--text"]
    result = subprocess.run(command, cwd=REPOSITORY, env=environ, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Model:" in result.stdout
    assert "cuda" not in result.stderr.lower() and "cuInit" not in result.stderr, result.stderr


@pytest.mark.parametrize(("verbose", "users"), [(True, None), (False, "1")], ids=["verbose", "user-set"])
def test_verbose_or_the_users_own_tf_log_level_leaves_tensorflows_log_alone(monkeypatch, verbose, users):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    if users is not None:
        monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", users)
    cli.import_tensorflow(argparse.Namespace(verbose=verbose, quiet=False))
    assert os.environ.get("TF_CPP_MIN_LOG_LEVEL") == users


def one_line_error(capsys, argv) -> str:
    assert main([str(arg) for arg in argv]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m ecgcrnn.app.show: error: ")
    assert "Traceback" not in err
    return err


def test_show_of_a_missing_record_exits_1_naming_its_header(capsys, tmp_path):
    err = one_line_error(capsys, [tmp_path / "B0001", "-o", tmp_path / "b.png"])
    assert "B0001.hea: no such header" in err


@pytest.mark.parametrize("how", [["--model"], []], ids=["option", "positional"])
def test_show_with_no_model_for_the_lead_set_exits_1_naming_the_folder(
    synthetic_records, capsys, tmp_path, how
):
    model = saved_model(tmp_path / "model", "two", 0.5)
    err = one_line_error(capsys, [synthetic_records / "C1_15s", *how, model, "-o", tmp_path / "a.png"])
    assert str(model / "twelve") in err


def test_show_into_an_output_under_a_file_exits_1_naming_the_argument(synthetic_records, capsys, tmp_path):
    (tmp_path / "file").write_text("")
    err = one_line_error(capsys, [synthetic_records / "C1_15s", "-o", tmp_path / "file" / "a.png"])
    assert "OUTPUT" in err


def test_show_without_anything_to_make_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "A0001")])
    assert stop.value.code == 2


def test_show_given_the_model_folder_twice_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as stop:
        main(
            [str(tmp_path / "A0001"), str(tmp_path), "--model", str(tmp_path), "-o", str(tmp_path / "a.png")]
        )
    assert stop.value.code == 2
