"""``plot_model``: draw a model's graph of layers (Keras's ``keras.utils.plot_model``).

Keras draws with Graphviz; here matplotlib draws the same picture (needs
``glassnet[plot]``): one box per layer — its name, its type and, with
``show_shapes``, its output shape — in rows by depth (the longest path from an
input), and an arrow for every tensor a layer reads.
"""

from __future__ import annotations

import os

from .plotting import pyplot

__all__ = ["plot_model", "layer_edges"]


def layer_edges(model):
    """``[(from layer name, to layer name), ...]``: which layer reads which layer's output."""
    links = model.connections()
    if not links:                                       # a Sequential: the chain
        names = [layer.name for layer in model.layers]
        return list(zip(names[:-1], names[1:]))
    edges = []
    for target, sources in links.items():
        for source in sources:
            source = source.split("[")[0]            # "shared[1]": a call of a shared layer
            if source != target and (source, target) not in edges:
                edges.append((source, target))
    return edges


def _depths(names, edges):
    depth = {name: 0 for name in names}
    for _ in range(len(names)):                          # longest path (the graph is acyclic)
        changed = False
        for a, b in edges:
            if depth.get(b, 0) < depth.get(a, 0) + 1:
                depth[b] = depth.get(a, 0) + 1
                changed = True
        if not changed:
            break
    return depth


def plot_model(model, to_file="model.png", show_shapes=False, show_layer_names=True,
               show_layer_activations=False, rankdir="TB", dpi=96, **ignored):
    """Draw the model's layers and their connections to ``to_file`` (PNG, SVG or PDF).

    Parameters
    ----------
    model : Model or Sequential
    to_file : str or path
    show_shapes : bool
        Write each layer's output shape in its box.
    show_layer_names : bool
    show_layer_activations : bool
    rankdir : {"TB", "LR"}
        Top to bottom or left to right.
    dpi : int

    Returns
    -------
    str
        The path written.
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR'; received {rankdir!r}")
    plt = pyplot()
    names = [layer.name for layer in model.layers]
    edges = layer_edges(model)
    depth = _depths(names, edges)
    rows = {}
    for name in names:
        rows.setdefault(depth[name], []).append(name)
    n_rows, n_cols = len(rows), max(len(r) for r in rows.values())
    position = {}
    for d, row in rows.items():
        for i, name in enumerate(row):
            across = (i + 0.5) / len(row) * n_cols
            position[name] = (across, -d) if rankdir == "TB" else (d, -across)
    labels = {}
    for layer in model.layers:
        text = [f"{layer.name} ({type(layer).__name__})" if show_layer_names
                else type(layer).__name__]
        if show_layer_activations and layer.activation is not None:
            text.append(f"activation: {layer.activation.name}")
        if show_shapes and layer.built:
            out = layer.output_dim
            widths = out if isinstance(out, list) else [out]
            text.append("output: " + ", ".join(f"(None, {w})" for w in widths))
        labels[layer.name] = "\n".join(text)
    width, height = (3.2 * n_cols, 1.3 * n_rows) if rankdir == "TB" else (3.4 * n_rows,
                                                                          1.3 * n_cols)
    fig, ax = plt.subplots(figsize=(max(width, 3.5), max(height, 1.5)))
    for a, b in edges:
        (x0, y0), (x1, y1) = position[a], position[b]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="->", color="#555555", shrinkA=18, shrinkB=18))
    for name, (x, y) in position.items():
        ax.text(x, y, labels[name], ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.4", facecolor="#f4f4f4", edgecolor="#333333"))
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    ax.set_title(f'Model: "{model.name}"', fontsize=10)
    fig.tight_layout()
    fig.savefig(os.fspath(to_file), dpi=dpi)
    plt.close(fig)
    return os.fspath(to_file)
