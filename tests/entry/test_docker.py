"""The Docker image: it installs the entry's pinned requirements and nothing else, leaves environments and
history out, and hadolint approves the Dockerfile."""

import itertools
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPOSITORY

DOCKERFILE = REPOSITORY / "Dockerfile"


def _instructions() -> list[str]:
    return [line.strip() for line in DOCKERFILE.read_text().splitlines() if line.strip() and line[0] != "#"]


def test_dockerfile_installs_exactly_requirements_txt_after_copying_the_entry():
    instructions = _instructions()
    installs = [i for i, line in enumerate(instructions) if "pip" in line and "install" in line]
    copy = next(i for i, line in enumerate(instructions) if line.split()[0] == "COPY")

    assert len(installs) == 1 and installs[0] > copy
    arguments = shlex.split(instructions[installs[0]])
    assert arguments[:3] == ["RUN", "pip", "install"]
    requirements = [value for flag, value in itertools.pairwise(arguments) if flag in ("-r", "--requirement")]
    packages = [word for word in arguments[3:] if not word.startswith("-") and word not in requirements]
    assert requirements == ["requirements.txt"] and packages == []


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
