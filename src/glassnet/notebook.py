"""The glass box in Jupyter: models, traces and histories as HTML, a live plot, the lab.

In a notebook, ``import glassnet`` is all it takes: the last expression of a
cell shows

* a **model** as its summary (a table, one row per layer, with the same
  columns as ``model.summary()``) and a drawing of the network (blue edges
  positive weights, red negative, thicker is larger);
* a **trace** (``model.trace(x, y)``) as tables of its equations, one row per
  step: the step, its formula and the numbers it produced (hover a number for
  all its digits);
* a **History** (``model.fit`` returns it) as its curves, or, without
  matplotlib, as a table of the epochs.

How: importing this module (``import glassnet`` does) registers
:func:`model_html`, :func:`trace_html` and :func:`history_html` as IPython's
HTML formatters for those classes, when IPython is running; outside IPython
nothing happens.  The functions themselves work anywhere and return a string
of HTML, e.g. to save it.

:class:`LivePlot` is a callback that redraws the curves in one output of the
cell after every epoch (what Keras users add ``livelossplot`` for), and
:func:`show_lab` starts ``glassnet lab`` and shows it inside the notebook.
"""

from __future__ import annotations

import atexit
import base64
import html
import io
import sys
import time

import numpy as np

from . import lab
from .callbacks import Callback, History
from .models import Model
from .plotting import plot_history, plot_network, pyplot
from .trace import Trace

__all__ = ["model_html", "trace_html", "history_html", "figure_html", "LivePlot", "show_lab",
           "LabView", "register"]

#: arrays with at most this many entries are shown number by number; larger ones as
#: their shape, min, mean and max
MAX_SHOWN = 64

#: one small style sheet, scoped to glassnet's own tables (class "glassnet")
STYLE = """<style>
table.glassnet { border-collapse: collapse; margin: 0.4em 0; font-size: 13px; }
table.glassnet th, table.glassnet td { border: 1px solid #ddd; padding: 2px 8px;
  text-align: left; vertical-align: top; }
table.glassnet th { background: #f3f3f3; }
table.glassnet td.num { text-align: right; font-family: monospace; }
table.glassnet table.values td { border: none; padding: 0 6px; text-align: right;
  font-family: monospace; }
table.glassnet caption { text-align: left; font-weight: bold; padding: 4px 0; }
table.glassnet tr.layer th { background: #e8eef7; }
div.glassnet-model, div.glassnet-trace, div.glassnet-history { overflow-x: auto;
  max-width: 100%; }
</style>"""


def _have_matplotlib():
    try:
        pyplot()
    except ImportError:
        return False
    return True


def figure_html(fig, alt):
    """A matplotlib figure as an inline PNG ``<img>`` (the figure is closed).

    Closing it keeps Jupyter's inline backend from showing the same figure a
    second time under the cell.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    pyplot().close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


# ---------------------------------------------------------------------------------------
# a model: its summary and its drawing
# ---------------------------------------------------------------------------------------

def model_html(model, drawing=True):
    """A model as HTML: its summary as a table and, once built, a drawing of the network.

    Parameters
    ----------
    model : Sequential
    drawing : bool, default True
        Include the drawing (needs matplotlib and a layer with a kernel).

    Returns
    -------
    str
    """
    name = html.escape(model.name or "sequential")
    rows = []
    for layer in model.layers:
        built = layer.built
        activation = layer.activation.name if layer.activation is not None else ""
        rows.append(
            f"<tr><td>{html.escape(layer.name)} ({html.escape(type(layer).__name__)})</td>"
            f"<td>{f'(None, {layer.output_dim})' if built else '(unbuilt)'}</td>"
            f"<td>{html.escape(activation)}</td>"
            f"<td class=\"num\">{f'{layer.count_params():,}' if built else '?'}</td></tr>")
    if model.built:
        trained = int(model.params.size)
        total = model.count_params()
        foot = (f"Total params: {total:,} (trainable {trained:,}, non-trainable "
                f"{total - trained:,}); input: (None, {model.input_dim})")
    else:
        foot = ("Total params: unknown (model not built yet: give the first layer "
                "input_dim=... or call build)")
    table = (f'<table class="glassnet glassnet-summary"><caption>Model: "{name}"</caption>'
             f"<thead><tr><th>Layer (type)</th><th>Output shape</th><th>Activation</th>"
             f"<th>Param #</th></tr></thead><tbody>{''.join(rows)}</tbody>"
             f'<tfoot><tr><td colspan="4">{html.escape(foot)}</td></tr></tfoot></table>')
    picture = ""
    if drawing and model.built and _have_matplotlib() and any(
            getattr(layer, "kernel", None) is not None for layer in model.layers):
        picture = figure_html(plot_network(model), "network drawing")
    return f'<div class="glassnet-model">{STYLE}{table}{picture}</div>'


# ---------------------------------------------------------------------------------------
# a trace: its equations and numbers
# ---------------------------------------------------------------------------------------

def _number(v):
    """A number to read (4 significant digits) with all its digits in its title."""
    v = float(v)
    shown = f"{v:.4g}"
    if shown in ("-0", "-0.0"):          # what rounds to zero shows as 0, never as -0
        shown = "0"
    return f'<td title="{v!r}">{shown}</td>'


def values_html(value):
    """An array as HTML: a grid of numbers when small, its shape and range when large."""
    value = np.asarray(value)
    if value.dtype.kind not in "biuf":
        return html.escape(str(value))
    if value.size > MAX_SHOWN or value.ndim > 2:
        if value.size == 0:
            return f"shape {value.shape}: empty"
        return html.escape(f"shape {value.shape}: min {value.min():.4g}, "
                           f"mean {value.mean():.4g}, max {value.max():.4g}")
    grid = np.atleast_2d(value)
    rows = "".join("<tr>" + "".join(_number(v) for v in row) + "</tr>" for row in grid)
    return f'<table class="values" data-shape="{value.shape}">{rows}</table>'


def _steps_html(steps, layer_title):
    """A layer's heading row, then one row per step: its label, formula and value."""
    rows = [f'<tr class="layer"><th colspan="3">{html.escape(layer_title)}</th></tr>']
    for step in steps:
        rows.append(f'<tr class="step"><td>{html.escape(step.label)}</td>'
                    f"<td>{html.escape(step.formula)}</td>"
                    f"<td>{values_html(step.value)}</td></tr>")
    return "".join(rows)


def trace_html(tr):
    """A :class:`~glassnet.trace.Trace` as HTML tables: forward pass, loss, backward pass.

    One row per equation: the layer, the step (``z``, ``a``, ``δ``, ...), its
    formula and the numbers it produced, as ``print(trace)`` shows them.

    Returns
    -------
    str
    """
    head = "<thead><tr><th>Step</th><th>Equation</th><th>Value</th></tr></thead>"
    forward = "".join(_steps_html(layer.forward, f"{layer.index}. {layer.title}")
                      for layer in tr.layers)
    parts = [STYLE, f'<table class="glassnet glassnet-trace glassnet-forward"><caption>'
                    f"Forward pass, layer by layer</caption>{head}<tbody>{forward}"
                    f'<tr class="output"><td>ŷ</td><td>the network\'s output</td>'
                    f"<td>{values_html(tr.output)}</td></tr></tbody></table>"]
    if tr.loss is not None:
        parts.append(f'<p class="glassnet-loss">Loss ({html.escape(str(tr.loss_name))}): '
                     f'L = <span title="{float(tr.loss)!r}">{float(tr.loss):.6g}</span></p>')
        backward = "".join(_steps_html(layer.backward, f"{layer.index}. {layer.title}")
                           for layer in reversed(tr.layers) if layer.backward)
        if backward:
            parts.append(f'<table class="glassnet glassnet-trace glassnet-backward"><caption>'
                         f"Backward pass (chain rule, last layer first)</caption>{head}"
                         f"<tbody>{backward}</tbody></table>")
    if tr.note:
        parts.append(f'<p class="glassnet-note">{html.escape(tr.note)}</p>')
    return f'<div class="glassnet-trace">{"".join(parts)}</div>'


# ---------------------------------------------------------------------------------------
# a history: its curves, or a table
# ---------------------------------------------------------------------------------------

def _history_table(logs, last=12):
    keys = list(logs)
    n = max(len(v) for v in logs.values())
    shown = list(range(n)) if n <= last + 3 else [0, 1, 2, None, *range(n - last, n)]
    rows = []
    for i in shown:
        if i is None:
            rows.append(f'<tr><td colspan="{len(keys) + 1}">…</td></tr>')
            continue
        cells = "".join(_number(logs[k][i]) if i < len(logs[k]) else "<td></td>" for k in keys)
        rows.append(f'<tr><td class="num">{i + 1}</td>{cells}</tr>')
    header = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    return (f'<table class="glassnet glassnet-history"><thead><tr><th>epoch</th>{header}</tr>'
            f"</thead><tbody>{''.join(rows)}</tbody></table>")


def history_html(history, plot=None):
    """A :class:`~glassnet.callbacks.History` (or its dict) as HTML.

    Parameters
    ----------
    history : History or dict of str to list of float
    plot : bool, optional
        Draw the curves (default: when matplotlib is installed); otherwise a
        table of the epochs (the first three and the last twelve, for long runs).

    Returns
    -------
    str
    """
    logs = history.history if isinstance(history, History) else dict(history)
    logs = {k: list(v) for k, v in logs.items() if len(v)}
    if not logs:
        return '<div class="glassnet-history"><p>No epochs recorded yet.</p></div>'
    if plot is None:
        plot = _have_matplotlib()
    n = max(len(v) for v in logs.values())
    last = ", ".join(f"{k} {v[-1]:.4g}" for k, v in logs.items())
    caption = f'<p class="glassnet-last">{n} epoch{"s" if n > 1 else ""}; last: {last}</p>'
    body = figure_html(plot_history(logs), "training curves") if plot else _history_table(logs)
    return f'<div class="glassnet-history">{STYLE}{caption}{body}</div>'


# ---------------------------------------------------------------------------------------
# the live plot
# ---------------------------------------------------------------------------------------

class _Curves:
    """What :class:`LivePlot` displays: HTML in a notebook, one line of text elsewhere."""

    def __init__(self, logs, plot):
        self.logs, self.plot = logs, plot

    def _repr_html_(self):
        return history_html(self.logs, plot=self.plot)

    def __repr__(self):
        if not self.logs:
            return "LivePlot: training starts"
        n = max(len(v) for v in self.logs.values())
        return f"epoch {n}: " + ", ".join(f"{k} {v[-1]:.4g}" for k, v in self.logs.items())


class LivePlot(Callback):
    """Redraw the training curves in the notebook after every epoch.

    One output of the cell, updated in place (an IPython display handle), as
    ``livelossplot`` does for Keras: ``model.fit(..., callbacks=[LivePlot()])``.
    Outside a notebook (IPython absent or not running) each update prints one
    line of text instead.

    Parameters
    ----------
    every : int, default 1
        Redraw every ``every`` epochs (and always after the last one).
    min_interval : float, default 0.5
        ... and not sooner than this many seconds after the last redraw (drawing
        takes a tenth of a second or more, longer than an epoch of a small
        network), as tqdm's ``mininterval``.  0 redraws at every ``every``-th epoch.
    plot : bool, optional
        Curves (default: when matplotlib is installed) or a table.

    Attributes
    ----------
    logs : dict of str to list of float
        What this callback saw in this ``fit`` (``learning_rate`` left out).
    updates : int
        How many times the display was drawn.
    """

    def __init__(self, every=1, min_interval=0.5, plot=None):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be a positive integer; received {every!r}")
        if isinstance(min_interval, bool) or not isinstance(
                min_interval, (int, float, np.integer, np.floating)) or not (
                0 <= min_interval < float("inf")):
            raise ValueError(f"min_interval must be a number of seconds >= 0; "
                             f"received {min_interval!r}")
        if plot not in (None, True, False):
            raise ValueError(f"plot must be True, False or None (curves when matplotlib is "
                             f"installed); received {plot!r}")
        self.every = int(every)
        self.min_interval = float(min_interval)
        self.plot = plot
        self.on_train_begin()

    def _show(self):
        curves = _Curves(self.logs, self.plot)
        self.updates += 1
        self._pending = False
        if self._handle is not None:
            self._handle.update(curves)
        else:
            try:
                from IPython.display import display       # optional: the notebook extra
            except ImportError:
                display = None
            self._handle = display(curves, display_id=True) if display is not None else None
            if self._handle is None:                  # not in IPython: display printed it
                if display is None:
                    print(repr(curves), flush=True)
                self._handle = _Printer()
        self._last = time.monotonic()                 # counted from the end of drawing

    def on_train_begin(self, logs=None):
        self.logs = {}
        self.updates = 0
        self._epochs = 0
        self._handle = None
        self._pending = False
        self._last = -float("inf")

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if key != "learning_rate":
                self.logs.setdefault(key, []).append(float(value))
        self._epochs += 1
        self._pending = True
        if self._epochs % self.every == 0 and (
                time.monotonic() - self._last >= self.min_interval):
            self._show()

    def on_train_end(self, logs=None):
        if self._pending:
            self._show()


class _Printer:
    """A stand-in display handle outside IPython: each update prints a line."""

    def update(self, obj):
        print(repr(obj), flush=True)


# ---------------------------------------------------------------------------------------
# the lab in the notebook
# ---------------------------------------------------------------------------------------

class LabView:
    """A running ``glassnet lab``, shown as an IFrame in a notebook.

    Made by :func:`show_lab`.  ``stop()`` ends the server (it also ends when
    the Python process, the notebook's kernel, exits).

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:PORT/``, also reachable from a browser tab.
    running : bool
    """

    def __init__(self, url, stop, width="100%", height=720):
        self.url = url
        self.width, self.height = width, height
        self._stop = stop
        self.running = True
        atexit.register(self.stop)

    def stop(self):
        """Stop the lab's server (again is harmless)."""
        if self.running:
            self.running = False
            self._stop()
            atexit.unregister(self.stop)

    def _repr_html_(self):
        if not self.running:
            return f"<p>glassnet lab at {html.escape(self.url)} was stopped.</p>"
        return (f'<iframe class="glassnet-lab" src="{html.escape(self.url)}" '
                f'width="{html.escape(str(self.width))}" height="{int(self.height)}" '
                f'style="border: 1px solid #ddd" title="glassnet lab"></iframe>'
                f'<p>glassnet lab at <a href="{html.escape(self.url)}" target="_blank">'
                f"{html.escape(self.url)}</a> (runs until the kernel stops, or "
                f"<code>.stop()</code>)</p>")

    def __repr__(self):
        state = "running" if self.running else "stopped"
        return f"LabView(url={self.url!r}, {state})"


def show_lab(model=None, data=None, label="0", port=0, width="100%", height=720):
    """Start ``glassnet lab`` in the background and show it in the notebook.

    The server listens on 127.0.0.1, so the notebook's browser must run on
    the same machine as the kernel (a local Jupyter; not a remote hub).

    Parameters
    ----------
    model : Sequential, optional
        A built model every new tab of the lab starts with.
    data : str, optional
        A data set of the lab (xor, circles, spirals, digits, ...) or a CSV file.
    label : str or int, default "0"
        The CSV file's label column.
    port : int, default 0
        0 picks a free port.
    width : str or int, default "100%"
    height : int, default 720
        The IFrame's size.

    Returns
    -------
    LabView
        Shown as the IFrame when it is a cell's last expression.
    """
    if isinstance(height, bool) or not isinstance(height, (int, np.integer)) or height < 100:
        raise ValueError(f"height must be an integer number of pixels >= 100; "
                         f"received {height!r}")
    url, stop = lab.start(model=model, data=data, port=port, label=label)
    return LabView(url, stop, width=width, height=height)


# ---------------------------------------------------------------------------------------
# registration with IPython
# ---------------------------------------------------------------------------------------

def register(shell=None):
    """Make IPython show models, traces and histories as HTML.

    Called when this module is imported; call it yourself for another shell.

    Parameters
    ----------
    shell : IPython InteractiveShell, optional
        Default: the running one, if IPython is running.

    Returns
    -------
    bool
        Whether a shell was found and the formatters registered.
    """
    if shell is None:
        ipython = sys.modules.get("IPython")           # never import IPython just to look
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(Model, model_html)           # Sequential too (a subclass)
    formatter.for_type(Trace, trace_html)
    formatter.for_type(History, history_html)
    return True


register()
