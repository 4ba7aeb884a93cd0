"""Pictures: training curves, function fits, confusion matrices, network drawings.

Needs matplotlib (``pip install glassnet[plot]``).  Every function draws on a
new figure, saves it when ``path`` is given, and returns the figure.
"""

from __future__ import annotations

import numpy as np

from .backend import to_host

__all__ = ["plot_history", "plot_function_fit", "plot_confusion_matrix", "plot_network",
           "confusion_matrix", "plot_layer_histograms", "draw_histograms",
           "plot_decision_regions", "plot_predicted_vs_target", "region_colors", "PALETTE",
           "signed_colormap"]

#: glassnet's one colour language, shared by these plots, the GIFs, the HTML report and the
#: lab's page: class k is ``PALETTE["classes"][k % 10]`` (matplotlib's tab10), and a signed
#: quantity (a weight, a neuron's output, a probability above or below one half) is
#: ``PALETTE["positive"]`` (class 1's orange) or ``PALETTE["negative"]`` (class 0's blue),
#: fading to white at zero: an orange link pushes towards class 1.  Curves: the loss in
#: ``PALETTE["loss"]``, a metric in ``PALETTE["accuracy"]``; training solid, test dashed.
PALETTE = {"classes": ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                       "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"),
           "positive": "#ff7f0e", "negative": "#1f77b4", "loss": "#222222",
           "accuracy": "#2ca02c"}


def pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'glassnet[plot]'") from None
    return plt


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        pyplot().close(fig)
    return fig


def plot_history(history, path=None, title="Training"):
    """Loss (and every metric) per epoch, training and validation side by side."""
    plt = pyplot()
    logs = history.history if hasattr(history, "history") else dict(history)
    keys = [k for k in logs if not k.startswith("val_") and k != "learning_rate"]
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        epochs = np.arange(1, len(logs[key]) + 1)
        color = PALETTE["loss"] if key == "loss" else PALETTE["accuracy"]
        ax.plot(epochs, logs[key], marker="o", ms=3, color=color, label=f"train {key}")
        if "val_" + key in logs:
            ax.plot(epochs, logs["val_" + key], "--", marker="o", ms=3, color=color,
                    label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)      # whole epochs
        ax.set_ylabel(key)
        ax.set_title(f"{title}: {key}")
        ax.grid(alpha=0.3)
        ax.legend()
    return _finish(fig, path)


def plot_function_fit(x, y_true, y_pred, path=None, title="Function vs prediction"):
    """A 1-D function and the network's prediction of it, sorted along x."""
    plt = pyplot()
    x = np.asarray(x).ravel()
    order = np.argsort(x)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(x[order], np.asarray(y_true).ravel()[order], lw=3, alpha=0.5, label="function")
    ax.plot(x[order], np.asarray(y_pred).ravel()[order], "--", lw=2, label="network")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig, path)


def region_colors(n_classes):
    """A colormap and the colour of each class, for decision regions and their legend."""
    from matplotlib.colors import ListedColormap, to_rgba
    if n_classes <= len(PALETTE["classes"]):
        colors = [to_rgba(c) for c in PALETTE["classes"][:n_classes]]
    else:
        colors = [pyplot().get_cmap("tab20")(i % 20) for i in range(n_classes)]
    return ListedColormap(colors), colors


def signed_colormap():
    """Negative (class 0's blue) → white → positive (class 1's orange), see :data:`PALETTE`."""
    from matplotlib.colors import LinearSegmentedColormap
    return LinearSegmentedColormap.from_list(
        "glassnet_signed", [PALETTE["negative"], "white", PALETTE["positive"]])


def class_of(outputs):
    """The class each row of network outputs predicts (argmax, or > 0.5 for one output)."""
    outputs = np.asarray(outputs)
    return outputs.argmax(axis=1) if outputs.shape[1] > 1 else (outputs[:, 0] > 0.5).astype(int)


def draw_decision_regions(ax, grid_axes, predicted, n_classes, class_names=None, x=None,
                          labels=None, legend_outside=False):
    """The predicted class over a 2-D grid as coloured regions, with a legend of the classes.

    ``legend_outside`` puts the legend right of the axes, where it can hide no point.
    Returns the image artist (an animation may update it with ``set_data``).
    """
    from matplotlib.patches import Patch
    cmap, colors = region_colors(n_classes)
    shape = (len(grid_axes[1]), len(grid_axes[0]))
    extent = (grid_axes[0][0], grid_axes[0][-1], grid_axes[1][0], grid_axes[1][-1])
    image = ax.imshow(predicted.reshape(shape), origin="lower", extent=extent, aspect="auto",
                      cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5, alpha=0.45)
    if x is not None:
        ax.scatter(x[:, 0], x[:, 1], c=[colors[int(c)] for c in labels], edgecolor="black",
                   s=40, zorder=3)
    names = class_names or [str(i) for i in range(n_classes)]
    where = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0) \
        if legend_outside else dict(loc="upper right")
    ax.legend(handles=[Patch(color=c, label=f"class {n}") for c, n in zip(colors, names)],
              fontsize=8, framealpha=0.8, **where)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    return image


def plot_decision_regions(model, x, y, path=None, class_names=None, grid_size=120,
                          title="Decision regions"):
    """The class a 2-input model predicts over the plane, with the data points on top."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[1] != 2:
        raise ValueError(f"decision regions need 2 input features; the data has {x.shape[1]}")
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
    grid_axes = [np.linspace(lo[i] - pad[i], hi[i] + pad[i], grid_size) for i in range(2)]
    xx, yy = np.meshgrid(*grid_axes)
    predicted = class_of(model.predict(np.column_stack([xx.ravel(), yy.ravel()])))
    y = np.asarray(y)
    labels = y if y.ndim == 1 else class_of(y)
    n_classes = max(model.output_dim, 2)
    fig, ax = pyplot().subplots(figsize=(6.5, 4.5))
    draw_decision_regions(ax, grid_axes, predicted, n_classes, class_names, x, labels,
                          legend_outside=True)
    ax.set_title(title)
    return _finish(fig, path)


def plot_predicted_vs_target(y_true, y_pred, path=None, title="Predicted vs target"):
    """Each sample's prediction against its target: the diagonal is a perfect fit."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    fig, ax = pyplot().subplots(figsize=(5, 5))
    ax.scatter(y_true, y_pred, s=8, alpha=0.5)
    lo, hi = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="perfect fit")
    ax.set_xlabel("target")
    ax.set_ylabel("prediction")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def confusion_matrix(y_true, y_pred, n_classes=None):
    """Counts ``C[i, j]`` of samples of class i predicted as class j."""
    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    k = n_classes or int(max(y_true.max(), y_pred.max())) + 1
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def plot_confusion_matrix(matrix, labels=None, path=None, title="Confusion matrix"):
    """Heat map of a confusion matrix with the counts written in each cell."""
    plt = pyplot()
    matrix = np.asarray(matrix)
    k = matrix.shape[0]
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * k, 0.8 + 0.6 * k))
    ax.imshow(matrix, cmap="Blues")
    labels = list(labels) if labels is not None else [str(i) for i in range(k)]
    ax.set_xticks(range(k), labels, rotation=45 if max(map(len, labels)) > 2 else 0)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] > threshold else "black")
    ax.set_title(f"{title} (accuracy {np.trace(matrix) / max(matrix.sum(), 1):.1%})")
    return _finish(fig, path)


def plot_network(model, path=None, max_nodes=12, title=None):
    """Draw a small network: nodes in layers, edges coloured and sized by weight.

    Orange edges are positive weights, blue negative (:data:`PALETTE`); thickness grows
    with |w|.
    Layers wider than ``max_nodes`` show their first ``max_nodes`` units.
    """
    plt = pyplot()
    dense = [layer for layer in model.layers if layer.kernel is not None]
    if not dense:
        raise ValueError("the model has no layers with a kernel (Dense) to draw")
    widths = [dense[0].input_dim] + [layer.output_dim for layer in dense]
    shown = [min(w, max_nodes) for w in widths]
    fig, ax = plt.subplots(figsize=(2.2 * len(widths), 0.45 * max(shown) + 1.5))
    pos = [np.linspace(0, 1, n) if n > 1 else np.array([0.5]) for n in shown]
    biggest = max(float(np.abs(layer.kernel).max()) for layer in dense) or 1.0
    for li, layer in enumerate(dense):
        W = layer.kernel[:shown[li], :shown[li + 1]]
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                w = float(W[i, j])
                ax.plot([li, li + 1], [pos[li][i], pos[li + 1][j]],
                        color=PALETTE["positive"] if w >= 0 else PALETTE["negative"],
                        lw=0.3 + 3.0 * abs(w) / biggest, alpha=0.25 + 0.6 * abs(w) / biggest,
                        zorder=1)
    for li, ys in enumerate(pos):
        ax.scatter(np.full(len(ys), li), ys, s=260, color="white", edgecolor="black", zorder=2)
        label = "input" if li == 0 else (dense[li - 1].activation.name)
        more = f"\n({widths[li] - shown[li]} not drawn)" if widths[li] > shown[li] else ""
        units = "unit" if widths[li] == 1 else "units"
        ax.text(li, -0.12, f"{label}\n{widths[li]} {units}{more}", ha="center", va="top")
    ax.set_xlim(-0.5, len(widths) - 0.5)
    ax.set_ylim(-0.3, 1.08)
    ax.axis("off")
    ax.set_title(title or "Network layout (blue: w > 0, red: w < 0, width ~ |w|)")
    return _finish(fig, path)


def draw_histograms(ax, histograms, what, names=None):
    """Step outlines of ``(counts, edges)`` histograms, one per layer, on ``ax``.

    ``names`` labels them (the layers' names, as ``summary`` shows them).
    Returns the artists, so an animation can update them.
    """
    names = names or [f"layer {i}" for i in range(1, len(histograms) + 1)]
    artists = [ax.stairs(counts, edges, label=name, lw=1.5)
               for name, (counts, edges) in zip(names, histograms)]
    ax.set_xlabel("value")
    ax.set_ylabel("count")
    ax.set_title(f"{what} per layer")
    if histograms:
        ax.legend(fontsize=8)
    return artists


def plot_layer_histograms(model, x=None, path=None, bins=30):
    """Histograms of each weighted layer's kernel (and its outputs on ``x``)."""
    plt = pyplot()
    dense = [layer for layer in model.layers if layer.kernel is not None]
    names = [layer.name for layer in dense]
    cols = 2 if x is not None else 1
    fig, axes = plt.subplots(1, cols, figsize=(5.5 * cols, 3.6), squeeze=False)
    draw_histograms(axes[0, 0], [np.histogram(to_host(layer.kernel), bins=bins)
                                 for layer in dense], "weights", names)
    if x is not None:
        model.forward(model.check_x(x))
        draw_histograms(axes[0, 1], [np.histogram(to_host(layer.output), bins=bins)
                                     for layer in dense], "activations", names)
    return _finish(fig, path)
