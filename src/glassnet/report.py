"""A self-contained HTML report of a model: one file, no server, no network.

Sections: the model summary, the training curves (from the History saved
with the model), an animation of the training when :class:`Snapshots
<glassnet.visualize.Snapshots>` were recorded, a drawing of the network, histograms of each layer's
weights and activations, and the trace of one sample through every
equation (:mod:`glassnet.trace`).  Pictures are embedded as base64 PNGs.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile

import numpy as np

from . import _validation as check
from ._version import __version__
from .backend import to_host, to_module
from .io import atomic_write
from .plotting import plot_history, plot_layer_histograms, plot_network, pyplot

__all__ = ["html_report", "write_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 13px; }
img { max-width: 100%; border: 1px solid #eee; }
footer { color: #777; font-size: 12px; margin-top: 3em; }
"""

# Once the page has loaded, note on <body> how many figures decoded (a browser test
# reads it; nothing is shown).
_CHECK = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute("data-images-rendered", ok + "/" + imgs.length);
});
"""


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    pyplot().close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _section(key, title, body):
    return f'<section id="{key}"><h2>{html.escape(title)}</h2>\n{body}\n</section>'


def _img(data, alt):
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _gif(snapshots, fps):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "learning.gif")
        snapshots.to_gif(path, fps=fps)
        with open(path, "rb") as handle:
            return base64.b64encode(handle.read()).decode("ascii")


def worst_sample(model, x, y, limit=2000):
    """Among the first ``limit`` rows, the one the model gets most wrong (the highest loss).

    A good default sample to trace: its loss is not 0, so every gradient shows.
    """
    x = check.as_matrix(x[:limit], "x", model.dtype, model.input_dim)
    y = check.as_targets(y[:limit], model.loss, model.output_dim, model.dtype)
    model.forward(to_module(x, model.xp))
    return int(np.argmax(to_host(model.per_sample_loss(to_module(y, model.xp)))))


def _describe(model, values):
    """A target or prediction in words: the class (by name) for classifiers, else the numbers."""
    values = np.atleast_1d(np.asarray(values))
    names = model.class_names
    if model.loss is not None and model.loss.sparse:
        k = int(values[0]) if values.size == 1 else int(values.argmax())
    elif values.size > 1 and model.layers[-1].activation is not None \
            and model.layers[-1].activation.name == "softmax":
        k = int(values.argmax())
    else:
        return np.array2string(values, precision=4)
    return f"class {names[k] if names else k}"


def html_report(model, x=None, y=None, sample=None, title=None, snapshots=None, fps=4):
    """The report as an HTML string.

    Parameters
    ----------
    model : Sequential
        A built model (compiled, for the backward part of the trace).
    x, y : arrays, optional
        Data for the activation histograms and the traced sample.
    sample : int, optional
        Which row of ``x`` to trace (default: the one with the highest loss,
        given ``y`` and a compiled model; else the first).
    snapshots : glassnet.visualize.Snapshots, optional
        Recorded during ``fit``; embedded as an animation of the training.
    """
    if not model.built:
        raise ValueError("the model has no weights yet; build or train it first")
    lines = []
    model.summary(print_fn=lines.append)
    sections = [_section("summary", "Model", f"<pre>{html.escape(chr(10).join(lines))}</pre>")]
    if model.history.history:
        sections.append(_section("training", "Training curves",
                                 _img(_png(plot_history(model.history)), "training curves")))
    else:
        sections.append(_section("training", "Training curves",
                                 "<p>This model has no training history.</p>"))
    if snapshots is not None and snapshots.frames:
        gif = _gif(snapshots, fps)
        sections.append(_section(
            "learning", "Learning, epoch by epoch",
            f'<img alt="training animation" src="data:image/gif;base64,{gif}">'))
    sections.append(_section("network", "Network",
                             _img(_png(plot_network(model)), "network diagram")))
    sections.append(_section("histograms", "Weights and activations per layer",
                             _img(_png(plot_layer_histograms(model, x)), "histograms")))
    if x is not None:
        traced = y is not None and model.loss is not None
        if sample is None:
            sample = worst_sample(model, x, y) if traced else 0
        if not 0 <= sample < len(x):
            raise ValueError(f"sample {sample} is out of range for {len(x)} samples")
        target = y[sample] if traced else None
        tr = model.trace(x[sample], target)
        said = [f"prediction: {_describe(model, tr.output[0])}"]
        if target is not None:
            said.insert(0, f"target: {_describe(model, target)}")
            said.append(f"loss: {tr.loss:.4g}")
        sections.append(_section(
            "trace", f"Sample {sample}, traced through every equation",
            f"<p>{html.escape('; '.join(said))}</p>\n<pre>{html.escape(str(tr))}</pre>"))
    name = title or f"glassnet report: {model.name or 'sequential'}"
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(name)}</title><style>{_STYLE}</style></head>\n"
            f"<body><h1>{html.escape(name)}</h1>\n" + "\n".join(sections) +
            f"\n<footer>Made with glassnet {__version__}.</footer>"
            f"<script>{_CHECK}</script></body></html>\n")


def write_report(path, model, x=None, y=None, sample=None, title=None, snapshots=None, fps=4):
    """Write :func:`html_report` to ``path`` (atomically)."""
    text = html_report(model, x, y, sample, title, snapshots, fps).encode("utf-8")
    atomic_write(path, lambda handle: handle.write(text))
    return path
