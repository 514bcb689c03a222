import numpy as np
import pytest
from model_fixtures import tiny_config
from test_report import png_size

from ecgcrnn.classes import default_class_table
from ecgcrnn.inference import save_model
from ecgcrnn.leads import LEAD_SETS
from ecgcrnn.preprocessing import PreprocessConfig
from ecgcrnn.show import main, show_record


def saved_model(root, lead_set: str, threshold: float):
    """A tiny untrained model of ``lead_set`` with every class's threshold at ``threshold``."""
    from ecgcrnn.model import build_model

    names = default_class_table().names
    network = build_model(LEAD_SETS[lead_set], names, tiny_config())
    save_model(root, lead_set, network, np.full(len(names), threshold), names, PreprocessConfig())
    return root


def test_show_draws_a_twelve_lead_record_on_one_png(challenge_dir, tmp_path):
    title = show_record(challenge_dir / "A0001", tmp_path / "a.png")
    assert title == "A0001"
    width, height = png_size(tmp_path / "a.png")
    assert 900 <= width <= 1500 and height > width  # 250 mm wide, twelve 25 mm rows


def test_show_accepts_the_header_file_and_creates_the_output_folder(challenge_dir, tmp_path):
    assert main([str(challenge_dir / "E00001.hea"), "-o", str(tmp_path / "new" / "e.png")]) == 0
    png_size(tmp_path / "new" / "e.png")


def test_show_with_a_model_titles_the_predicted_classes_by_abbreviation(challenge_dir, tmp_path):
    model = saved_model(tmp_path / "model", "twelve", 0.0)
    title = show_record(challenge_dir / "A0001", tmp_path / "a.png", model)
    assert title.startswith("A0001: ")
    assert {entry.split()[0] for entry in title[7:].split(", ")} == set(default_class_table().abbreviations)
    png_size(tmp_path / "a.png")


def test_show_with_a_model_says_when_no_class_passes_its_threshold(challenge_dir, tmp_path):
    model = saved_model(tmp_path / "model", "twelve", 1.5)
    assert show_record(challenge_dir / "A0001", tmp_path / "a.png", model) == (
        "A0001: no class above its threshold"
    )


def one_line_error(capsys, argv) -> str:
    assert main([str(arg) for arg in argv]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("python -m ecgcrnn.show: error: ")
    assert "Traceback" not in err
    return err


def test_show_of_a_missing_record_exits_1_naming_its_header(capsys, tmp_path):
    err = one_line_error(capsys, [tmp_path / "B0001", "-o", tmp_path / "b.png"])
    assert "B0001.hea: no such header" in err


def test_show_with_no_model_for_the_lead_set_exits_1_naming_the_folder(challenge_dir, capsys, tmp_path):
    model = saved_model(tmp_path / "model", "two", 0.5)
    err = one_line_error(capsys, [challenge_dir / "A0001", "--model", model, "-o", tmp_path / "a.png"])
    assert str(model / "twelve") in err


def test_show_into_an_output_under_a_file_exits_1_naming_the_argument(challenge_dir, capsys, tmp_path):
    (tmp_path / "file").write_text("")
    err = one_line_error(capsys, [challenge_dir / "A0001", "-o", tmp_path / "file" / "a.png"])
    assert "OUTPUT" in err


def test_show_without_an_output_is_a_usage_error(capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "A0001")])
    assert stop.value.code == 2
