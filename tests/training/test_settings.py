"""Training settings: defaults, a settings file (--config, or ECGCRNN_CONFIG) with its training and pipeline
sections, ECGCRNN_<FIELD> overrides, the network's settings nested, and errors."""

import json
import os

import pytest
from helpers import copy_records

from ecgcrnn.domain import LEAD_SETS
from ecgcrnn.model.settings import NetworkConfig
from ecgcrnn.pipeline import PipelineSettings
from ecgcrnn.training.settings import TrainingConfig, config_from_dict, load_settings, read_settings


def load_config(environ):
    """The training settings that ``environ`` gives without a --config file."""
    return load_settings(None, environ)[0]


def test_defaults_without_environment_are_the_dataclass_defaults():
    config, settings = load_settings(None, {})

    assert config == TrainingConfig() and settings == PipelineSettings()
    assert config.lead_sets == tuple(LEAD_SETS)


def test_json_file_overrides_the_defaults(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({"training": {"epochs": 3, "network": {"conv_filters": [8, 16]}, "lead_sets": ["two"]}})
    )

    config = load_config({"ECGCRNN_CONFIG": str(path)})

    assert config.epochs == 3
    assert config.network == NetworkConfig(conv_filters=(8, 16))
    assert config.lead_sets == ("two",)
    assert config.batch_size == TrainingConfig().batch_size


def test_environment_overrides_the_json_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"training": {"epochs": 3, "batch_size": 8, "network": {"dropout": 0.1}}}))

    config = load_config({"ECGCRNN_CONFIG": str(path), "ECGCRNN_EPOCHS": "5", "ECGCRNN_DENSE_UNITS": "[4]"})

    assert config.epochs == 5
    assert config.batch_size == 8
    assert config.network == NetworkConfig(dense_units=(4,), dropout=0.1)


def test_config_file_given_is_read_in_place_of_the_one_the_environment_names(tmp_path):
    given, named = tmp_path / "given.json", tmp_path / "named.json"
    given.write_text(json.dumps({"training": {"epochs": 3}, "pipeline": {"features": {"max_beats": 24}}}))
    named.write_text(json.dumps({"training": {"epochs": 4}}))

    config, settings = load_settings(given, {"ECGCRNN_CONFIG": str(named)})

    assert config == TrainingConfig(epochs=3)
    assert settings == PipelineSettings.from_dict({"features": {"max_beats": 24}})


def test_settings_file_round_trips_the_training_and_pipeline_settings(tmp_path):
    config = config_from_dict({"epochs": 2, "network": {"conv_filters": [4, 8]}})
    settings = PipelineSettings.from_dict({"preprocess": {"bandpass_hz": [1.0, 40.0]}})
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"training": config.to_json(), "pipeline": settings.to_dict()}))

    assert read_settings(path) == (config, settings)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"epochs": 3}, r"unknown sections \['epochs'\]; expected training and pipeline"),
        ({"pipeline": {"filters": {}}}, "unknown pipeline stages"),
        ({"training": {"network": {"units": 3}}}, r"unknown network settings \['units'\]"),
    ],
)
def test_settings_file_with_an_unknown_key_raises_value_error_naming_the_file_and_key(
    tmp_path, content, message
):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(content))

    with pytest.raises(ValueError, match=f"settings.json: .*{message}"):
        read_settings(path)


def test_environment_parses_ints_floats_lists_and_strings():
    environ = {
        "ECGCRNN_BATCH_SIZE": "16",
        "ECGCRNN_LEARNING_RATE": "0.0005",
        "ECGCRNN_DENSE_UNITS": "[32, 16, 8]",
        "ECGCRNN_LEAD_SETS": '["twelve", "two"]',
        "ECGCRNN_LOSS": "focal",
        "ECGCRNN_CACHE_DIRECTORY": "/tmp/some cache",
    }

    config = load_config(environ)

    assert config.batch_size == 16 and isinstance(config.batch_size, int)
    assert config.learning_rate == pytest.approx(5e-4) and isinstance(config.learning_rate, float)
    assert config.network.dense_units == (32, 16, 8)
    assert config.lead_sets == ("twelve", "two")
    assert config.loss == "focal"
    assert config.cache_directory == "/tmp/some cache"


def test_environment_lead_sets_may_be_comma_separated():
    assert load_config({"ECGCRNN_LEAD_SETS": "six, three"}).lead_sets == ("six", "three")


def test_environment_int_given_for_a_float_field_becomes_a_float():
    config = load_config({"ECGCRNN_DROPOUT": "0"})

    assert config.network.dropout == 0.0 and isinstance(config.network.dropout, float)


def test_config_from_dict_turns_lists_into_tuples():
    config = config_from_dict({"network": {"conv_filters": [4, 8, 8]}, "lead_sets": ["four"]})

    assert config.network.conv_filters == (4, 8, 8)
    assert config.lead_sets == ("four",)


def test_config_round_trips_through_to_json():
    config = config_from_dict({"epochs": 2, "network": {"conv_filters": [4, 8]}})

    assert config.to_json()["network"]["conv_filters"] == [4, 8]
    assert config_from_dict(json.loads(json.dumps(config.to_json()))) == config


def test_unknown_key_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="epoch_count"):
        config_from_dict({"epoch_count": 3})


def test_unknown_key_in_json_file_raises_value_error_naming_it(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"training": {"learning_rat": 0.1}}))

    with pytest.raises(ValueError, match="learning_rat"):
        load_config({"ECGCRNN_CONFIG": str(path)})


def test_unparsable_environment_value_raises_value_error_naming_the_variable():
    with pytest.raises(ValueError, match="ECGCRNN_EPOCHS"):
        load_config({"ECGCRNN_EPOCHS": "many"})


def test_non_numeric_value_for_an_int_field_raises_value_error():
    with pytest.raises(ValueError, match="ten"):
        config_from_dict({"batch_size": "ten"})


def test_unknown_lead_set_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="seven"):
        load_config({"ECGCRNN_LEAD_SETS": '["twelve", "seven"]'})


def test_unknown_loss_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="hinge"):
        load_config({"ECGCRNN_LOSS": "hinge"})


@pytest.mark.parametrize("fraction", ["0", "1", "1.5"])
def test_validation_fraction_outside_zero_one_raises_value_error(fraction):
    with pytest.raises(ValueError, match="validation_fraction"):
        load_config({"ECGCRNN_VALIDATION_FRACTION": fraction})


def test_thresholds_come_from_two_folds_and_rare_classes_from_their_criteria_by_default():
    config = TrainingConfig()

    assert (config.threshold_folds, config.min_positives, config.residual_prior_sd) == (2, 10, 0.1)


@pytest.mark.parametrize("folds", [0, 2, 5])
def test_threshold_folds_of_zero_or_at_least_two_are_accepted(folds):
    assert load_config({"ECGCRNN_THRESHOLD_FOLDS": str(folds)}).threshold_folds == folds


@pytest.mark.parametrize("folds", ["1", "-1"])
def test_threshold_folds_of_one_or_below_zero_raise_value_error_naming_the_field(folds):
    with pytest.raises(ValueError, match=f"threshold_folds {folds}: expected 0 or at least 2"):
        load_config({"ECGCRNN_THRESHOLD_FOLDS": folds})


@pytest.mark.parametrize("sd", ["0", "-0.5"])
def test_residual_prior_sd_not_above_zero_raises_value_error_naming_the_field(sd):
    with pytest.raises(ValueError, match="residual_prior_sd .*: expected above 0"):
        load_config({"ECGCRNN_RESIDUAL_PRIOR_SD": sd})


def test_min_positives_and_residual_prior_sd_come_from_the_environment():
    config = load_config({"ECGCRNN_MIN_POSITIVES": "3", "ECGCRNN_RESIDUAL_PRIOR_SD": "0.5"})

    assert config.min_positives == 3 and config.residual_prior_sd == 0.5
    assert isinstance(config.residual_prior_sd, float)


def test_unreadable_json_file_raises_value_error_naming_the_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{epochs: 3")

    with pytest.raises(ValueError, match="config.json"):
        load_config({"ECGCRNN_CONFIG": str(path)})


def test_missing_json_file_raises_value_error_naming_the_file(tmp_path):
    with pytest.raises(ValueError, match="absent.json"):
        load_config({"ECGCRNN_CONFIG": str(tmp_path / "absent.json")})


# train_model.py reads the settings once and hands them to training


@pytest.fixture
def handed(synthetic_records, tmp_path, monkeypatch):
    """``run(*options)``: train_model.py's main on one record, with training replaced by a record of the
    settings it was given (``{"config": ..., "settings": ...}``) and no ECGCRNN_ variable but those set."""
    import team_code
    import train_model

    given = {}
    monkeypatch.setattr(
        team_code,
        "training_code",
        lambda data, model, config, settings: given.update(config=config, settings=settings),
    )
    for name in [name for name in os.environ if name.startswith("ECGCRNN_")]:
        monkeypatch.delenv(name)
    records = copy_records(synthetic_records, tmp_path / "data", ["C2_10s"])

    def run(*options):
        given.clear()
        return train_model.main([str(records), str(tmp_path / "model"), *options]), given

    return run


def test_train_model_with_the_challenges_two_arguments_alone_trains_with_the_defaults(handed):
    status, given = handed()

    assert status == 0
    assert given == {"config": TrainingConfig(), "settings": PipelineSettings()}


def test_train_model_trains_with_its_config_file_then_the_environment(handed, tmp_path, monkeypatch):
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps({"training": {"epochs": 3, "batch_size": 4}, "pipeline": {"features": {"max_beats": 24}}})
    )
    monkeypatch.setenv("ECGCRNN_BATCH_SIZE", "8")

    status, given = handed("--config", str(path))

    assert status == 0
    assert given["config"] == TrainingConfig(epochs=3, batch_size=8)
    assert given["settings"] == PipelineSettings.from_dict({"features": {"max_beats": 24}})


def test_train_model_with_an_unknown_setting_in_its_config_file_ends_with_one_line_naming_both(
    handed, tmp_path, capsys
):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"training": {"epoch_count": 3}}))

    status, given = handed("--config", str(path))

    assert status == 1 and given == {}
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith(f"train_model.py: error: {path}: unknown training settings ['epoch_count']")


@pytest.mark.parametrize("confidence", [-0.5, 1.0])
def test_share_confidence_outside_zero_to_one_raises_value_error_naming_the_field(confidence):
    with pytest.raises(ValueError, match="share_confidence"):
        TrainingConfig(share_confidence=confidence)
