"""Training on every local GPU and on several machines through ``tf.distribute``, and mixed precision.

:func:`current_strategy` picks the strategy once per process:

- ``TF_CONFIG`` describes a cluster of more than one task: ``MultiWorkerMirroredStrategy`` (synchronous
  data parallelism, gradients all-reduced across every GPU, or the CPU, of every machine). Every machine
  runs the same command with its own ``TF_CONFIG``; the chief (task ``chief``, or worker 0 where there is
  none) writes the checkpoints and the models, the other workers write theirs into temporary folders.
- otherwise, more than one local GPU: ``MirroredStrategy`` over them;
- otherwise (one GPU, or the CPU): TensorFlow's default strategy.

Training builds, compiles or loads its network in ``strategy.scope()``, and batches of
``config.batch_size`` records per replica (the global batch is that times the replicas). Keras splits
every global batch among the replicas; with several workers each worker reads the whole global batch
and keeps its own share (tf.data's DATA auto-sharding, which Keras' generator input falls back to), so
the workers must draw the same batches in the same order: ``fit`` runs with ``shuffle=False`` (the batches
are shuffled by seed and epoch already). There, Keras reads two batches before the first epoch, which
moves every worker alike on to the next epoch's draw.

Keras 3.15 cannot train under ``MultiWorkerMirroredStrategy`` as it is (keras-team/keras#20585): before
the first epoch ``fit`` averages a batch across workers with ``strategy.reduce``, which fails on a dict of
inputs, and after every step it averages the scalar logs with ``axis=0``, which fails on scalars.
:func:`prepare` works around both for one network: it lets ``fit`` defer building to its first step (as
Keras does without a strategy), so training must run inside ``strategy.scope()``, and gives it a training
step whose logs are the worker's own. Batch normalisation is synchronised across replicas, so that every
replica (and worker) keeps the same moving statistics.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
from pathlib import Path

import keras
import tensorflow as tf

MIXED_PRECISION = ("auto", "on", "off")


@functools.cache
def current_strategy():
    """The process's ``tf.distribute`` strategy (see the module docstring); created on the first call,
    which must come before TensorFlow runs any operation when ``TF_CONFIG`` names a cluster."""
    if _cluster_size() > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_multi_worker(strategy) -> bool:
    """Whether ``strategy`` spans several workers."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and _cluster_size() > 1


def is_chief(strategy) -> bool:
    """Whether this process writes the checkpoints and models: always, but on a cluster's other workers."""
    if not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return not has_chief and resolver.task_type == "worker" and resolver.task_id == 0


def worker_folder(folder: Path, strategy) -> Path:
    """``folder`` on the chief; on another worker, an empty temporary folder beside it, filled with a copy of
    ``folder`` where that exists (a checkpoint to resume from, on storage that the workers share)."""
    if is_chief(strategy):
        return folder
    resolver = strategy.cluster_resolver
    temporary = folder.parent / f".{folder.name}.{resolver.task_type}-{resolver.task_id}"
    shutil.rmtree(temporary, ignore_errors=True)
    if folder.is_dir():
        shutil.copytree(folder, temporary)
    return temporary


def prepare(network, strategy) -> None:
    """Make a built (and compiled) network trainable with ``fit`` under ``strategy``; see the module
    docstring. With several workers, ``fit`` and ``predict`` must then run inside ``strategy.scope()``."""
    if strategy.num_replicas_in_sync > 1:
        for layer in network.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.synchronized = True
    if is_multi_worker(strategy):
        network._distribute_strategy = None  # no averaging of a batch before the first epoch
        network.train_function = _train_function(network, strategy)


def mixed_precision(setting: str) -> bool:
    """Whether to train in mixed precision: ``"on"``, ``"off"``, or ``"auto"`` (on where there is a GPU)."""
    if setting not in MIXED_PRECISION:
        raise ValueError(f"mixed_precision {setting!r}: expected one of {', '.join(MIXED_PRECISION)}")
    return setting == "on" or (setting == "auto" and bool(tf.config.list_physical_devices("GPU")))


@contextlib.contextmanager
def precision(setting: str):
    """Build layers inside in ``mixed_float16`` (float16 computations, float32 weights) when
    :func:`mixed_precision` says so, else in float32; the global dtype policy is restored on exit."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16" if mixed_precision(setting) else "float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _train_function(network, strategy):
    """One training step on the next global batch of a distributed iterator; the logs of this worker."""

    @tf.function(reduce_retracing=True)
    def train_function(iterator):
        logs = strategy.run(network.train_step, args=(next(iterator),))
        return {name: strategy.experimental_local_results(value)[0] for name, value in logs.items()}

    return train_function


def _cluster_size() -> int:
    """Tasks in the cluster that ``TF_CONFIG`` describes (0 without one)."""
    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return 0
    try:
        cluster = json.loads(text).get("cluster", {})
    except ValueError:
        raise ValueError(f"TF_CONFIG is not valid JSON: {text[:200]!r}") from None
    return sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))
