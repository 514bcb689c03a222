"""The entry's method, as the Challenge calls it: training_code, load_model and run_model.

The dual-branch CRNN (issue #4) is not written yet: every function below raises NotImplementedError, so
that nothing pretends to work. test_model.py turns such a failure into all-negative outputs.
"""

_NOT_YET = "the dual-branch CRNN is not implemented yet (issue #4)"


def training_code(data_directory, model_directory):
    raise NotImplementedError(_NOT_YET)


def load_model(model_directory, leads):
    raise NotImplementedError(_NOT_YET)


def run_model(model, header, recording):
    raise NotImplementedError(_NOT_YET)
