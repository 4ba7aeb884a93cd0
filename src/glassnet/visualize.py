"""Watch a network learn: snapshots during ``fit``, rendered as an animated GIF.

:class:`Snapshots` is a callback.  At the end of every ``every``-th epoch it
records the epoch's logs, a histogram of each layer's weights and of its
activations on a probe batch, and, when the inputs are 1-D or 2-D, the
network's function (1-D) or decision regions (2-D) over the input range.
:meth:`Snapshots.to_gif` turns them into an animation (matplotlib + Pillow,
``pip install 'glassnet[plot]'``).
"""

from __future__ import annotations

import numpy as np

from .callbacks import Callback
from .layers import Dense

__all__ = ["Snapshots"]


class Snapshots(Callback):
    """Record what the network looks like as it trains.

    Parameters
    ----------
    x : array (n, features)
        Probe inputs: their activations are histogrammed, and their range
        sets the plotting window for 1-D and 2-D inputs.
    y : array, optional
        Targets of ``x``, drawn in the function / decision-region panel.
    every : int, default 1
        Record every ``every`` epochs (and always the last).
    grid_size : int, default 80
        Resolution of the function / decision-region grid.
    bins : int, default 30

    Attributes
    ----------
    frames : list of dict
        One per recorded epoch: "epoch", "logs", "weights" and "activations"
        (lists of (counts, edges) per Dense layer) and "grid" (predictions on
        the grid, or None).
    """

    def __init__(self, x, y=None, every=1, grid_size=80, bins=30):
        super().__init__()
        self.x = np.asarray(x, dtype=np.float64)
        self.y = None if y is None else np.asarray(y)
        self.every = max(1, int(every))
        self.grid_size = int(grid_size)
        self.bins = int(bins)
        self.frames = []
        self.grid = None

    def _grid(self):
        lo, hi = self.x.min(axis=0), self.x.max(axis=0)
        pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
        axes = [np.linspace(l - p, h + p, self.grid_size) for l, h, p in zip(lo, hi, pad)]
        if self.x.shape[1] == 1:
            return axes[0][:, None], axes
        xx, yy = np.meshgrid(*axes)
        return np.column_stack([xx.ravel(), yy.ravel()]), axes

    def on_train_begin(self, logs=None):
        if self.x.shape[1] in (1, 2) and self.grid is None:
            self.grid = self._grid()

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every and not last:
            return
        self.record(epoch, logs)

    def record(self, epoch, logs=None):
        """Take a snapshot now (fit calls this; you may too)."""
        model = self.model
        weights = [np.histogram(layer.W, bins=self.bins) for layer in model.layers
                   if isinstance(layer, Dense)]
        acts = []
        a = self.x.astype(model.dtype)
        for layer in model.layers:
            a = layer.forward(a)
            if isinstance(layer, Dense):
                acts.append(np.histogram(a, bins=self.bins))
        grid = None if self.grid is None else model.predict(self.grid[0])
        self.frames.append({"epoch": epoch + 1, "logs": dict(logs or {}), "weights": weights,
                            "activations": acts, "grid": grid})

    # ------------------------------------------------------------------------------
    def _draw(self, fig, axes, frame, history):
        from .plotting import draw_histograms
        ax_loss, ax_fn, ax_w, ax_a = axes
        for ax in axes:
            ax.clear()
        epochs = [f["epoch"] for f in history]
        ax_loss.plot(epochs, [f["logs"].get("loss", np.nan) for f in history], "o-", ms=2)
        ax_loss.set_title(f"loss, epoch {frame['epoch']}")
        ax_loss.set_xlabel("epoch")
        ax_loss.set_yscale("log")
        ax_loss.grid(alpha=0.3)
        if frame["grid"] is not None:
            points, grid_axes = self.grid
            if self.x.shape[1] == 1:
                if self.y is not None:
                    ax_fn.plot(self.x[:, 0], np.asarray(self.y).reshape(len(self.x), -1)[:, 0],
                               ".", ms=3, alpha=0.5, label="data")
                ax_fn.plot(points[:, 0], frame["grid"][:, 0], lw=2, label="network")
                ax_fn.legend(loc="upper left")
                ax_fn.set_title("function fit")
            else:
                out = frame["grid"]
                value = out[:, 0] if out.shape[1] == 1 else out.argmax(axis=1)
                shape = (len(grid_axes[1]), len(grid_axes[0]))
                ax_fn.contourf(grid_axes[0], grid_axes[1], value.reshape(shape), levels=20,
                               cmap="coolwarm", alpha=0.8)
                if self.y is not None:
                    colors = np.asarray(self.y).reshape(len(self.x), -1)
                    colors = colors[:, 0] if colors.shape[1] == 1 else colors.argmax(axis=1)
                    ax_fn.scatter(self.x[:, 0], self.x[:, 1], c=colors, cmap="coolwarm",
                                  edgecolor="black", s=60)
                ax_fn.set_title("decision regions")
        else:
            ax_fn.axis("off")
        draw_histograms(ax_w, frame["weights"], "weights")
        draw_histograms(ax_a, frame["activations"], "activations")

    def to_gif(self, path, fps=4):
        """Render the recorded frames as an animated GIF at ``path``."""
        if not self.frames:
            raise ValueError("no snapshots were recorded; pass this callback to fit first")
        from .plotting import _pyplot
        plt = _pyplot()
        from matplotlib.animation import FuncAnimation, PillowWriter
        fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))

        def update(i):
            self._draw(fig, axes, self.frames[i], self.frames[:i + 1])
            fig.tight_layout()
            return list(axes)

        animation = FuncAnimation(fig, update, frames=len(self.frames), blit=False)
        animation.save(path, writer=PillowWriter(fps=fps))
        plt.close(fig)
        return path
