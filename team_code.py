"""The entry's method, as the Challenge calls it: one trained model per lead set.

recording -> preprocess -> delineate -> features, measurements, criteria -> dual-branch CRNN started from the
criteria -> thresholds -> classes
"""

from ecgcrnn.domain import LEAD_SETS
from ecgcrnn.inference.predict import record_name
from ecgcrnn.model.lead_set import LeadSetModel
from ecgcrnn.pipeline import PipelineSettings, prepare_record
from ecgcrnn.training.settings import TrainingConfig

__all__ = ["training_code", "load_model", "run_model"]


def training_code(
    data_directory,
    model_directory,
    config: TrainingConfig | None = None,
    settings: PipelineSettings | None = None,
):
    """Train and save one model per lead set: every record through the pipeline once into a cache, then per
    lead set the CRNN and its per-class thresholds chosen for the Challenge metric. ``config`` (a
    TrainingConfig) and ``settings`` (the pipeline's) are the defaults where not given, as the Challenge
    calls it; train_model.py gives those of its --config file and the environment."""
    from ecgcrnn.training.loop import train  # imports TensorFlow: not needed to load and run a model

    train(data_directory, model_directory, config or TrainingConfig(), settings or PipelineSettings())


def load_model(model_directory, leads) -> LeadSetModel:
    """The model of the lead set made of ``leads`` (any order or case), with the pipeline settings it was
    trained with."""
    return LeadSetModel.load(model_directory, leads)


def run_model(model: LeadSetModel, header, recording):
    """(classes, labels, probabilities) for one recording (leads in file order, ADC units)."""
    # preprocess (mV, 500 Hz, band-pass and notches, 10 s windows) -> delineate (wavelet PQRST, Martínez et
    # al. 2004) -> features (beat sequence and record vector), global measurements and the published
    # criteria graded on them -> the network's inputs, for every window
    record = prepare_record(header, recording, model.leads, model.settings)
    # dual-branch CRNN (signal; features) on every window, its logits started from the criteria's,
    # probabilities averaged, per-class thresholds (the criteria's own for classes too rare to learn)
    return model.finish(record.inputs, record_name(header))


def _loader(lead_set):
    def load(model_directory):
        return load_model(model_directory, LEAD_SETS[lead_set])

    load.__name__ = f"load_{lead_set}_lead_model"
    return load


# The interface before May 2021: one loader and one runner per lead set.
load_twelve_lead_model = _loader("twelve")
load_six_lead_model = _loader("six")
load_four_lead_model = _loader("four")
load_three_lead_model = _loader("three")
load_two_lead_model = _loader("two")
run_twelve_lead_model = run_six_lead_model = run_four_lead_model = run_model
run_three_lead_model = run_two_lead_model = run_model
