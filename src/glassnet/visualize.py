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

from .backend import to_host
from .callbacks import Callback
from .io import atomic_write
from .plotting import (PALETTE, class_of, draw_decision_regions, draw_histograms, pyplot,
                       signed_colormap)
from .report import write_report

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
    every : int, optional
        Record every ``every`` epochs.  By default about ``frames`` epochs,
        log-spaced (1, 2, 3, 5, 8, ...: a network changes most at the start).
        The untrained network (epoch 0) and the last epoch are always recorded.
    frames : int, default 40
    inverse : callable, optional
        Maps the network's outputs (and ``y``) back to the function's own
        units for the pictures, e.g. ``scaler.inverse_transform`` when the
        network learns standardised targets.
    grid_size : int, default 80
        Resolution of the function / decision-region grid.
    bins : int, default 30

    Attributes
    ----------
    frames : list of dict
        One per recorded epoch: "epoch", "logs", "weights" and "activations"
        (lists of (counts, edges) per layer with a kernel) and "grid" (predictions on
        the grid, or None).
    """

    def __init__(self, x, y=None, every=None, frames=40, inverse=None, grid_size=80, bins=30):
        super().__init__()
        self.x = np.asarray(x, dtype=np.float64)
        self.y = None if y is None else np.asarray(y)
        self.every = None if every is None else max(1, int(every))
        self.n_frames = max(2, int(frames))
        self.inverse = inverse
        self.chosen = set()
        self.grid_size = int(grid_size)
        self.bins = int(bins)
        self.frames = []
        self.grid = None
        self.layer_names = []

    def _units(self, values):
        return values if self.inverse is None else np.asarray(self.inverse(values))

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
        first, last = len(self.model.history.epoch), self.params.get("epochs", 1)
        count = max(last - first, 1)
        if self.every is None:       # log-spaced epoch numbers, counted from this fit's start
            steps = np.unique(np.round(np.geomspace(1, count, self.n_frames)).astype(int))
        else:
            steps = np.arange(self.every, count + 1, self.every)
        self.chosen = {first + int(k) for k in steps} | {last}
        if not self.frames:          # the untrained network: epoch 0
            before = self.model.evaluate(self.x, self.y, return_dict=True) if self.y is not None \
                and self.model.loss is not None else {}
            self.record(first - 1, before)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.chosen:
            self.record(epoch, logs)

    def record(self, epoch, logs=None):
        """Take a snapshot now (fit calls this; you may too)."""
        model = self.model
        weighted = [layer for layer in model.layers if layer.kernel is not None]
        weights = [np.histogram(to_host(layer.kernel), bins=self.bins) for layer in weighted]
        model.forward(model.check_x(self.x))
        acts = [np.histogram(to_host(layer.output), bins=self.bins) for layer in weighted]
        self.layer_names = [layer.name for layer in weighted]
        grid = None if self.grid is None else self._units(model.predict(self.grid[0]))
        self.frames.append({"epoch": epoch + 1, "logs": dict(logs or {}), "weights": weights,
                            "activations": acts, "grid": grid})

    # ------------------------------------------------------------------------------
    def _setup(self, axes):
        """Create every artist once, with axis limits that fit all frames.

        Returns a function that updates the artists for frame i (redrawing
        from scratch per frame would be several times slower).
        """
        frames = self.frames
        ax_loss, ax_fn, ax_w, ax_a = axes
        epochs = np.array([f["epoch"] for f in frames])
        losses = np.array([f["logs"].get("loss", np.nan) for f in frames], dtype=float)
        (loss_line,) = ax_loss.plot([], [], "o-", ms=2, color=PALETTE["loss"], label="loss")
        ax_loss.set_xlim(0, epochs.max() + 1)
        top = np.nanmax(losses) if np.isfinite(losses).any() else 1.0
        ax_loss.set_ylim(0, top * 1.05)
        ax_loss.set_xlabel("epoch")
        ax_loss.grid(alpha=0.3)
        acc_key = next((k for k in frames[-1]["logs"] if "acc" in k and
                        not k.startswith("val_")), None)
        acc_line = None
        if acc_key is not None:                  # accuracy on its own 0..1 axis
            ax_acc = ax_loss.twinx()
            (acc_line,) = ax_acc.plot([], [], "s-", ms=2, color=PALETTE["accuracy"],
                                       label=acc_key)
            ax_acc.set_ylim(0, 1.05)
            accuracy = np.array([f["logs"].get(acc_key, np.nan) for f in frames], dtype=float)
            ax_loss.legend(handles=[loss_line, acc_line], loc="center right", fontsize=8)
        update_fn = self._setup_function_panel(ax_fn)
        update_w = _setup_histograms(ax_w, [f["weights"] for f in frames], "weights",
                                     self.layer_names)
        update_a = _setup_histograms(ax_a, [f["activations"] for f in frames], "activations",
                                     self.layer_names)

        def update(i):
            loss_line.set_data(epochs[:i + 1], losses[:i + 1])
            if acc_line is not None:
                acc_line.set_data(epochs[:i + 1], accuracy[:i + 1])
            ax_loss.set_title(f"epoch {epochs[i]}")
            update_fn(i)
            update_w(i)
            update_a(i)
        return update

    def _setup_function_panel(self, ax):
        if self.frames[0]["grid"] is None:
            ax.axis("off")
            return lambda i: None
        points, grid_axes = self.grid
        outs = [f["grid"] for f in self.frames]
        targets = None if self.y is None else np.asarray(self.y).reshape(len(self.x), -1)
        if targets is not None and self.x.shape[1] == 1:
            targets = self._units(targets)
        if self.x.shape[1] == 1:
            if targets is not None:
                ax.plot(self.x[:, 0], targets[:, 0], ".", ms=3, alpha=0.5, label="data")
            (line,) = ax.plot(points[:, 0], outs[0][:, 0], lw=2, label="network")
            values = np.concatenate([o[:, 0] for o in outs]
                                    + ([targets[:, 0]] if targets is not None else []))
            span = values.max() - values.min() or 1.0
            ax.set_ylim(values.min() - 0.05 * span, values.max() + 0.05 * span)
            ax.legend(loc="upper left")
            ax.set_title("function fit")
            return lambda i: line.set_ydata(outs[i][:, 0])
        shape = (len(grid_axes[1]), len(grid_axes[0]))
        labels = None if targets is None else class_of(targets)
        if outs[0].shape[1] > 1:         # several classes: coloured regions, a legend
            image = draw_decision_regions(ax, grid_axes, class_of(outs[0]), outs[0].shape[1],
                                          self.model.class_names, self.x if labels is not None
                                          else None, labels)
            ax.set_title("decision regions")
            return lambda i: image.set_data(class_of(outs[i]).reshape(shape))
        # one output: its value over the plane, the 0.5 line is the boundary
        extent = (grid_axes[0][0], grid_axes[0][-1], grid_axes[1][0], grid_axes[1][-1])
        image = ax.imshow(outs[0][:, 0].reshape(shape), origin="lower", extent=extent,
                          aspect="auto", cmap=signed_colormap(), vmin=0, vmax=1, alpha=0.85)
        ax.figure.colorbar(image, ax=ax, label="output (< 0.5: class 0, > 0.5: class 1)")
        if labels is not None:       # each class in its colour, ringed to stand out
            for k, color in enumerate(PALETTE["classes"][:2]):
                chosen = labels == k
                ax.scatter(self.x[chosen, 0], self.x[chosen, 1], color=color,
                           edgecolor="black", s=70, zorder=3, label=f"class {k}")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=2, fontsize=8,
                      frameon=False)
        ax.set_title("decision regions")
        return lambda i: image.set_data(outs[i][:, 0].reshape(shape))

    def to_report(self, path, x=None, y=None, sample=None, fps=4):
        """A self-contained HTML report of the model, with this animation embedded."""
        return write_report(path, self.model, x if x is not None else self.x,
                            y if y is not None else self.y, sample=sample, snapshots=self,
                            fps=fps)

    def to_gif(self, path, fps=4, dpi=72):
        """Render the recorded frames as an animated GIF at ``path``.

        Each frame is drawn once with matplotlib and handed to Pillow.
        """
        if not self.frames:
            raise ValueError("no snapshots were recorded; pass this callback to fit first")
        from PIL import Image                   # comes with matplotlib
        plt = pyplot()
        fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), dpi=dpi)
        update = self._setup(axes)
        update(len(self.frames) - 1)
        fig.tight_layout()                     # lay out once, on the fullest frame
        images = []
        for i in range(len(self.frames)):
            update(i)
            fig.canvas.draw()
            rgba = np.asarray(fig.canvas.buffer_rgba())
            images.append(Image.fromarray(rgba[..., :3].copy()).quantize(colors=128))
        plt.close(fig)
        atomic_write(path, lambda handle: images[0].save(
            handle, format="GIF", save_all=True, append_images=images[1:],
            duration=int(1000 / fps), loop=0))
        return path


def _setup_histograms(ax, per_frame, what, names):
    """One step outline per layer; limits cover every frame.  Returns update(i)."""
    edges = [e for frame in per_frame for _, e in frame]
    counts = [c for frame in per_frame for c, _ in frame]
    stairs = draw_histograms(ax, per_frame[0], what, names)
    ax.set_xlim(min(e[0] for e in edges), max(e[-1] for e in edges))
    ax.set_ylim(0, max(c.max() for c in counts) * 1.05 or 1)

    def update(i):
        for artist, (c, e) in zip(stairs, per_frame[i]):
            artist.set_data(c, e)
    return update
