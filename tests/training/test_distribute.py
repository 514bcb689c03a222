"""Distribution: the strategy a machine gets, the chief, mixed precision, and a two-worker training.

The two-worker training runs ``train`` in two processes on this machine, each its own CPU worker of a
``MultiWorkerMirroredStrategy`` cluster described by ``TF_CONFIG`` on free localhost ports, with the tiny
network on a few records for a few steps, and compares the networks both workers end with.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import REPOSITORY, copy_records, once_per_session, tiny_config

from ecgcrnn.data.cache import build_cache
from ecgcrnn.domain import default_class_table
from ecgcrnn.model.folder import META_FILE
from ecgcrnn.model.network import build_model
from ecgcrnn.training import distribute
from ecgcrnn.training.loop import CHECKPOINTS
from ecgcrnn.training.settings import load_settings

# Each worker trains with train(); LeadSetModel.save is wrapped to keep the weights of the network it saves.
_WORKER = """
import json, sys
import numpy as np
from ecgcrnn.model.lead_set import LeadSetModel
from ecgcrnn.pipeline import PipelineSettings
from ecgcrnn.training import distribute
from ecgcrnn.training import loop as training
from ecgcrnn.training.settings import config_from_dict

save = LeadSetModel.save

def keep_weights(model, model_directory, extra=None):
    np.savez(sys.argv[3], *model.network.get_weights())
    return save(model, model_directory, extra)

LeadSetModel.save = keep_weights
training.train(sys.argv[1], sys.argv[2], config_from_dict(json.loads(sys.argv[4])), PipelineSettings())
strategy = distribute.current_strategy()
seen = {"multi_worker": distribute.is_multi_worker(strategy), "replicas": strategy.num_replicas_in_sync}
with open(sys.argv[5], "w") as file:
    json.dump({**seen, "chief": distribute.is_chief(strategy)}, file)
"""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _train_two_workers(source: Path, folder: Path) -> None:
    names = sorted(path.stem for path in source.glob("*.hea"))[::2]
    records = copy_records(source, folder / "records", names)
    build_cache(records, folder / "cache", lead_sets=("two",), n_jobs=2)
    config = tiny_config(lead_sets=["two"], epochs=2, batch_size=4, steps_per_epoch=3)
    config_text = json.dumps({**config.to_json(), "cache_directory": str(folder / "cache")})
    cluster = {"worker": [f"localhost:{port}" for port in _free_ports(2)]}
    workers = []
    for index in range(2):
        environ = {key: value for key, value in os.environ.items() if not key.startswith("ECGCRNN_")}
        environ |= {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        environ |= {"CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
        command = [sys.executable, "-c", _WORKER, str(records), str(folder / f"model_{index}")]
        command += [str(folder / f"weights_{index}.npz"), config_text, str(folder / f"strategy_{index}.json")]
        log = open(folder / f"worker_{index}.log", "w")  # noqa: SIM115 (closed below)
        workers.append((subprocess.Popen(command, cwd=REPOSITORY, env=environ, stdout=log, stderr=log), log))
    codes = []
    for process, log in workers:
        try:
            codes.append(process.wait(timeout=900))  # two fold networks, on shared cores
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
        log.close()
    (folder / "returncodes.json").write_text(json.dumps(codes))


@pytest.fixture(name="two_workers", scope="session")
def two_workers_fixture(synthetic_training_set, tmp_path_factory) -> Path:
    """The folder of a two-worker training: each worker's model folder, saved weights and log."""
    folder = once_per_session(
        tmp_path_factory, "two_workers", lambda f: _train_two_workers(synthetic_training_set, f)
    )
    codes = json.loads((folder / "returncodes.json").read_text())
    if codes != [0, 0]:
        logs = [(folder / f"worker_{i}.log").read_text()[-3000:] for i in range(2)]
        pytest.fail(f"workers ended with {codes}:\n" + "\n---\n".join(logs))
    return folder


def _weights(path: Path) -> list[np.ndarray]:
    with np.load(path) as archive:
        return [archive[f"arr_{i}"] for i in range(len(archive.files))]


@pytest.mark.slow
def test_two_workers_end_with_identical_weights(two_workers):
    chief, other = _weights(two_workers / "weights_0.npz"), _weights(two_workers / "weights_1.npz")

    assert len(chief) == len(other) > 0
    for a, b in zip(chief, other, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_only_the_chief_saves_the_model_and_the_other_worker_leaves_nothing(two_workers):
    assert (two_workers / "model_0" / "two" / META_FILE).is_file()
    assert not (two_workers / "model_0" / CHECKPOINTS).exists()
    assert not any((two_workers / "model_1").rglob("*"))


@pytest.mark.slow
def test_two_workers_train_as_one_cluster_of_two_replicas(two_workers):
    seen = [json.loads((two_workers / f"strategy_{i}.json").read_text()) for i in range(2)]

    assert [(s["multi_worker"], s["replicas"]) for s in seen] == [(True, 2)] * 2
    assert [s["chief"] for s in seen] == [True, False]
    history = json.loads((two_workers / "model_0" / "two" / META_FILE).read_text())["history"]
    assert [epoch["fold"] for epoch in history] == [1, 1, 2, 2]  # two threshold folds of two epochs
    assert all(np.isfinite(epoch["loss"]) for epoch in history)


@pytest.mark.skipif(len(tf.config.list_physical_devices("GPU")) > 1, reason="several GPUs here")
def test_one_machine_without_several_gpus_gets_the_default_strategy():
    strategy = distribute.current_strategy()

    assert strategy is tf.distribute.get_strategy() and strategy.num_replicas_in_sync == 1
    assert distribute.is_chief(strategy) and not distribute.is_multi_worker(strategy)


def test_a_single_replica_leaves_the_network_as_it_is():
    network = build_model(("I", "II"), default_class_table().names, tiny_config().network)

    distribute.prepare(network, tf.distribute.get_strategy())

    assert not any(getattr(layer, "synchronized", False) for layer in network.layers)
    assert network.train_function is None


def test_worker_folder_of_the_chief_is_the_folder_itself(tmp_path):
    assert distribute.worker_folder(tmp_path / "x", tf.distribute.get_strategy()) == tmp_path / "x"


def test_mixed_precision_auto_is_on_where_there_is_a_gpu_and_on_when_asked():
    assert distribute.mixed_precision("auto") == bool(tf.config.list_physical_devices("GPU"))
    assert distribute.mixed_precision("on") and not distribute.mixed_precision("off")


def test_mixed_precision_setting_other_than_auto_on_off_raises_value_error():
    with pytest.raises(ValueError, match="'half'"):
        distribute.mixed_precision("half")


def test_mixed_precision_network_computes_in_float16_with_a_float32_output():
    with distribute.precision("on"):
        network = build_model(("I", "II"), default_class_table().names, tiny_config().network)

    assert network.get_layer("signal_0_conv").compute_dtype == "float16"
    assert network.get_layer("signal_0_conv").variable_dtype == "float32"
    assert network.output.dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"


def test_mixed_precision_and_steps_per_epoch_come_from_the_environment():
    config, _ = load_settings(None, {"ECGCRNN_MIXED_PRECISION": "on", "ECGCRNN_STEPS_PER_EPOCH": "5"})

    assert (config.mixed_precision, config.steps_per_epoch) == ("on", 5)
