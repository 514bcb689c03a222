"""Figures written as every file of the package is, whole or not at all, on matplotlib's file-only backend.

matplotlib is imported on first use, so that modules which may draw stay light to import.
"""

from __future__ import annotations

from pathlib import Path

from ecgcrnn.io.atomic import replacing


def save_figure(fig, output_file) -> Path:
    """Save ``fig`` to ``output_file`` (format from its suffix, PNG without one) through a temporary file
    in the same folder, which then replaces it: an interrupted or failed save leaves no partial figure and
    an earlier one as it was. An :class:`OSError` names ``output_file``, not the temporary file.
    """
    path = Path(output_file)
    with replacing(path) as temporary:
        fig.savefig(temporary, format=path.suffix[1:].lower() or "png")
    return path


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, no display), imported on first use."""
    import matplotlib  # on first use: the commands that may draw start without it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after the backend is chosen

    return plt
