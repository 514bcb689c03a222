"""What the tests of figures share: the figures a test saved, and a PNG's size."""

from pathlib import Path

import matplotlib.figure
import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG file; fails the test unless it starts with the PNG signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.fixture(name="drawn")
def drawn_fixture(monkeypatch):
    """The figures saved during the test, in order."""
    figures, savefig = [], matplotlib.figure.Figure.savefig

    def record(self, *args, **kwargs):
        figures.append(self)
        return savefig(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    return figures
