"""Shared fixtures: the real records in ../shared/data, and copies of them with edited headers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CHALLENGE_DATA = SHARED_DATA / "challenge"
LUDB_DATA = SHARED_DATA / "ludb"


@pytest.fixture(scope="session")
def challenge_dir() -> Path:
    """The 171 real Challenge records; tests that need them skip only where ../shared is absent."""
    if not CHALLENGE_DATA.is_dir():
        pytest.skip("../shared/data/challenge not found")
    return CHALLENGE_DATA


@pytest.fixture
def copy_record(challenge_dir, tmp_path):
    """Copy a real record into a temporary folder, optionally editing its header text; returns the .hea."""

    def copy(name: str, edit=None, folder: Path | None = None) -> Path:
        folder = folder or tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(challenge_dir / f"{name}.mat", folder / f"{name}.mat")
        text = (challenge_dir / f"{name}.hea").read_text()
        header_file = folder / f"{name}.hea"
        header_file.write_bytes((edit(text) if edit else text).encode())
        return header_file

    return copy
