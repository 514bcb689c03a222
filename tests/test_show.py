import json
import shutil

import numpy as np
import pytest
from helpers import png_size, save_untrained_model

from ecgcrnn.app.show import ROW_MM, draw_ecg_paper, ecg_layout, main, show_record
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
    assert [panel.y_mm for panel in panels] == [62.5, 37.5, 12.5]


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


def test_show_of_a_recording_with_every_lead_rescaled_says_it_reads_no_voltage(
    synthetic_records, tmp_path, capsys
):
    header = parse_header(load_header(synthetic_records / "C2_10s.hea"))
    recording = load_recording(synthetic_records / "C2_10s.mat", header).astype(np.float64)
    low, span = recording.min(axis=1, keepdims=True), np.ptp(recording, axis=1, keepdims=True)
    rescaled = np.round((recording - low) / span * 1000).astype(np.int16)
    record = write_record(tmp_path, header, rescaled, header.leads)

    assert main([str(record), "--text", "--json", str(tmp_path / "r.json"), "-q"]) == 0

    out = capsys.readouterr().out
    assert "rescaled, not as recorded" in out and "QRS axis          not measured" not in out
    reading = json.loads((tmp_path / "r.json").read_text())
    assert reading["amplitudes_recorded"] is False and reading["measurements"]["limb_QRS_max_mV"] is None
    assert reading["measurements"]["QRS_ms"] is not None


def test_show_json_says_the_amplitudes_of_a_recorded_ecg_were_read(synthetic_records, tmp_path):
    assert main([str(synthetic_records / "C2_10s"), "--json", str(tmp_path / "r.json"), "-q"]) == 0

    assert json.loads((tmp_path / "r.json").read_text())["amplitudes_recorded"] is True


@pytest.mark.real_data
def test_show_reads_a_real_record_with_atrial_fibrillation(challenge_dir, capsys):
    assert main([str(challenge_dir / "A0004"), "--text", "-q"]) == 0
    assert "atrial fibrillation" in capsys.readouterr().out


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
