"""The learning curves of one lead set's training, drawn beside its model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecgcrnn.io.figures import pyplot, save_figure


def plot_learning_curves(history, output_file) -> Path:
    """Draw the training loss and the validation Challenge metric per epoch; returns the PNG's path.

    Two panels sharing the epoch axis; the epoch with the best validation metric is marked in both. An
    empty history gives the two empty panels with a note.

    Parameters
    ----------
    history : list of dict
        One dict per epoch as training keeps it (:class:`ecgcrnn.training.loop.ChallengeMonitor`), with keys
        ``loss`` and ``val_challenge_metric`` (either may be missing); epoch ``i`` is ``history[i - 1]``.
    output_file : str or Path
        The PNG to write.
    """
    plt = pyplot()
    epochs = np.arange(1, len(history) + 1)
    loss = np.array([epoch.get("loss", np.nan) for epoch in history], dtype=float)
    metric = np.array([epoch.get("val_challenge_metric", np.nan) for epoch in history], dtype=float)
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(6, 5), dpi=100)
    try:
        top.plot(epochs, loss, "o-", color="tab:blue")
        top.set_ylabel("training loss")
        bottom.plot(epochs, metric, "o-", color="tab:green")
        bottom.set_ylabel("validation Challenge metric")
        bottom.set_xlabel("epoch")
        if np.isfinite(metric).any():
            best = int(np.nanargmax(metric))
            for ax in (top, bottom):
                ax.axvline(epochs[best], color="tab:red", linestyle="--", label=f"best epoch {epochs[best]}")
            bottom.plot(epochs[best], metric[best], "*", color="tab:red", markersize=12)
            top.legend(fontsize="small")
            title = f"Learning curves (best: epoch {epochs[best]}, metric {metric[best]:.3f})"
        else:
            title = "Learning curves (no validation metric recorded)"
        if not len(history):
            bottom.set_xlim(0.5, 1.5)
        bottom.xaxis.get_major_locator().set_params(integer=True)
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
        top.set_title(title)
        fig.tight_layout()
        save_figure(fig, output_file)
    finally:
        plt.close(fig)
    return Path(output_file)
