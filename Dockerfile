# The entry as the PhysioNet/CinC Challenge 2021 harness runs it: the template's folder /physionet, copy,
# workdir and `pip install -r requirements.txt`, on a slim pinned Python. The harness then runs
#   python train_model.py TRAIN_DIR MODEL_DIR   and   python test_model.py MODEL_DIR TEST_DIR OUTPUT_DIR
# inside the container.
#
# Build:  docker build -t ecgcrnn .
# GPU:    docker build --build-arg BASE_IMAGE=tensorflow/tensorflow:2.21.0-gpu -t ecgcrnn-gpu .
#         (TensorFlow's GPU image brings CUDA and cuDNN; requirements.txt's tensorflow pin is then already met)
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2

RUN mkdir /physionet
COPY ./ /physionet
WORKDIR /physionet

RUN pip install --no-cache-dir -r requirements.txt
