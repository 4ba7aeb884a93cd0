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

from ._version import __version__
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

# Once the page has loaded, note how many figures decoded (shown in the footer, and
# read by the test that opens the report in a real browser).
_CHECK = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var sections = document.querySelectorAll("section").length;
  document.body.setAttribute("data-images-rendered", ok + "/" + imgs.length);
  document.getElementById("render-status").textContent =
    ok + " of " + imgs.length + " figures rendered, " + sections + " sections.";
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


def html_report(model, x=None, y=None, sample=0, title=None, snapshots=None, fps=4):
    """The report as an HTML string.

    Parameters
    ----------
    model : Sequential
        A built model (compiled, for the backward part of the trace).
    x, y : arrays, optional
        Data for the activation histograms and the traced sample.
    sample : int
        Which row of ``x`` to trace.
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
        if not 0 <= sample < len(x):
            raise ValueError(f"sample {sample} is out of range for {len(x)} samples")
        target = None if y is None or model.loss is None else y[sample]
        text = str(model.trace(x[sample], target))
        sections.append(_section("trace", f"Sample {sample}, traced through every equation",
                                 f"<pre>{html.escape(text)}</pre>"))
    name = title or f"glassnet report: {model.name or 'sequential'}"
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(name)}</title><style>{_STYLE}</style></head>\n"
            f"<body><h1>{html.escape(name)}</h1>\n" + "\n".join(sections) +
            f"\n<footer>glassnet {__version__}. <span id=\"render-status\"></span></footer>"
            f"<script>{_CHECK}</script></body></html>\n")


def write_report(path, model, x=None, y=None, sample=0, title=None, snapshots=None, fps=4):
    """Write :func:`html_report` to ``path`` (atomically)."""
    text = html_report(model, x, y, sample, title, snapshots, fps).encode("utf-8")
    atomic_write(path, lambda handle: handle.write(text))
    return path
