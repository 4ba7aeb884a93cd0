"""The glass box in Jupyter: the HTML a notebook shows, and a real notebook run headless."""
import json
import re
import urllib.error
import urllib.request

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import glassnet as gn
from glassnet import notebook

TITLE = re.compile(r'title="([^"]+)"')


def _xor_model(seed=0):
    model = gn.Sequential([gn.Dense(3, "tanh", input_dim=2, name="hidden"),
                           gn.Dense(2, "softmax", name="out")], seed=seed)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.SGD(0.5, momentum=0.9))
    return model


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0])


def _rows(table_html):
    return re.findall(r"<tr>(.*?)</tr>", table_html.split("<tbody>", 1)[1].split("</tbody>")[0])


# -- a model ---------------------------------------------------------------------------------

def test_model_html_has_one_row_per_layer_with_the_summary_numbers():
    model = gn.Sequential([gn.Dense(5, "relu", input_dim=3), gn.Dropout(0.1),
                           gn.Dense(2, "softmax", name="probabilities")], seed=0)
    page = notebook.model_html(model, drawing=False)
    rows = _rows(page)
    assert len(rows) == 3
    assert "dense (Dense)" in rows[0] and "(None, 5)" in rows[0] and ">relu<" in rows[0]
    assert ">20<" in rows[0]                      # 3·5 weights + 5 biases
    assert "dropout (Dropout)" in rows[1] and ">0<" in rows[1]
    assert "probabilities (Dense)" in rows[2] and ">12<" in rows[2]
    assert "Total params: 32" in page and "input: (None, 3)" in page


def test_model_html_of_an_unbuilt_model_says_so_and_names_are_escaped():
    model = gn.Sequential([gn.Dense(4, name="<b>x</b>")])
    page = notebook.model_html(model)
    assert "(unbuilt)" in page and "not built yet" in page and "<img" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_model_html_draws_the_network_when_matplotlib_is_there():
    pytest.importorskip("matplotlib")
    page = notebook.model_html(_xor_model())
    assert '<img alt="network drawing" src="data:image/png;base64,' in page


# -- a trace -----------------------------------------------------------------------------------

def test_trace_html_shows_the_traced_numbers_to_the_last_digit():
    model = _xor_model()
    model.fit(XOR_X, XOR_Y, epochs=5, batch_size=4, verbose=0)
    tr = model.trace(XOR_X[1], XOR_Y[1])
    page = notebook.trace_html(tr)
    # the output row holds the model's own prediction, every digit in the titles
    output = page.split('<tr class="output">', 1)[1].split("</tr></table>", 1)[0]
    shown = np.array([float(v) for v in TITLE.findall(output)])
    np.testing.assert_array_equal(shown, model.predict(XOR_X[1:2])[0].astype(np.float64))
    # each step's row, in both passes, and the loss
    forward, backward = page.split("glassnet-backward", 1)
    for label in ("x", "W", "b", "z", "a"):
        assert f"<td>{label}</td>" in forward
    for label in ("δ", "dL/dW", "dL/db", "ΔW"):
        assert f"<td>{label}</td>" in backward
    assert f'title="{tr.loss!r}"' in page
    # the backward pass goes from the last layer to the first
    assert backward.index("2. out") < backward.index("1. hidden")
    # the gradient dL/dW of the hidden layer, number for number
    dw = tr.layers[0].get("dL/dW")
    row = backward.split("1. hidden", 1)[1].split("<td>dL/dW</td>", 1)[1].split("</table>", 1)[0]
    np.testing.assert_array_equal(np.array([float(v) for v in TITLE.findall(row)]),
                                  dw.ravel().astype(np.float64))


def test_trace_html_summarises_large_arrays_and_shows_the_note():
    model = gn.Sequential([gn.Dense(30, input_dim=10), gn.Dense(2, activation="step")], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    tr = model.trace(np.ones(10), np.zeros(2))
    page = notebook.trace_html(tr)
    assert "shape (10, 30): min" in page                 # 300 weights: summarised
    assert 'class="glassnet-note"' in page and "No backward pass" in page
    assert "glassnet-backward" not in page


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, width=32), min_size=1, max_size=notebook.MAX_SHOWN))
def test_values_html_round_trips_every_number(values):
    page = notebook.values_html(np.array(values, dtype=np.float32))
    shown = np.array([float(v) for v in TITLE.findall(page)], dtype=np.float32)
    np.testing.assert_array_equal(shown, np.array(values, dtype=np.float32))
    assert "-0<" not in page.replace("e-0", "")           # zero never shows as -0


# -- a history ---------------------------------------------------------------------------------

def test_history_html_without_plot_is_a_table_of_epochs():
    history = gn.History()
    for epoch, (loss, val) in enumerate([(0.9, 1.0), (0.5, 0.7), (0.25, 0.6)]):
        history.on_epoch_end(epoch, {"loss": loss, "val_loss": val})
    page = notebook.history_html(history, plot=False)
    rows = _rows(page)
    assert len(rows) == 3
    assert TITLE.findall(rows[2]) == ["0.25", "0.6"]
    assert "3 epochs; last: loss 0.25, val_loss 0.6" in page


def test_history_html_of_a_long_run_shows_its_start_and_end():
    page = notebook.history_html({"loss": list(np.linspace(1, 0, 100))}, plot=False)
    rows = _rows(page)
    assert len(rows) == 3 + 1 + 12 and "…" in rows[3]
    assert rows[-1].startswith('<td class="num">100</td>')


def test_history_html_plots_the_curves_with_matplotlib():
    pytest.importorskip("matplotlib")
    model = _xor_model()
    history = model.fit(XOR_X, XOR_Y, epochs=3, verbose=0)
    page = notebook.history_html(history)
    assert '<img alt="training curves"' in page and "3 epochs" in page


def test_an_empty_history_says_so():
    assert "No epochs recorded yet" in notebook.history_html(gn.History())


# -- the live plot outside a notebook, and bad arguments --------------------------------------

def test_liveplot_outside_a_notebook_prints_one_line_per_update(capsys):
    model = _xor_model()
    plot = notebook.LivePlot(every=2, min_interval=0, plot=False)
    model.fit(XOR_X, XOR_Y, epochs=5, verbose=0, callbacks=[plot])
    lines = capsys.readouterr().out.strip().splitlines()
    # epochs 2 and 4, then the last one (5)
    assert [line.split(":")[0] for line in lines] == ["epoch 2", "epoch 4", "epoch 5"]
    assert plot.updates == 3 and len(plot.logs["loss"]) == 5
    assert plot.logs["loss"] == model.history.history["loss"]


@pytest.mark.parametrize("every", [0, -1, 1.5, True, "2"])
def test_liveplot_rejects_a_bad_every(every):
    with pytest.raises(ValueError, match="every must be a positive integer"):
        notebook.LivePlot(every=every)


def test_liveplot_waits_min_interval_between_redraws_and_always_draws_the_end(capsys):
    model = _xor_model()
    plot = notebook.LivePlot(min_interval=3600, plot=False)      # an hour: only 1st and last
    model.fit(XOR_X, XOR_Y, epochs=7, verbose=0, callbacks=[plot])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1", "epoch 7"]


@pytest.mark.parametrize("interval", [-1, float("nan"), float("inf"), "1", None])
def test_liveplot_rejects_a_bad_min_interval(interval):
    with pytest.raises(ValueError, match="min_interval must be"):
        notebook.LivePlot(min_interval=interval)


def test_liveplot_counts_epochs_whatever_the_logs_are_called(capsys):
    class OwnStep(gn.Sequential):
        def train_step(self, x, y, sample_weight=None):
            return {"error": super().train_step(x, y, sample_weight)["loss"]}

    model = OwnStep([gn.Dense(1, input_dim=2)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    plot = notebook.LivePlot(every=3, min_interval=0, plot=False)
    model.fit(XOR_X, XOR_Y[:, None], epochs=6, verbose=0, callbacks=[plot])
    assert [line.split(":")[0] for line in capsys.readouterr().out.strip().splitlines()] == [
        "epoch 3", "epoch 6"]


def test_liveplot_rejects_a_bad_plot():
    with pytest.raises(ValueError, match="plot must be True, False or None"):
        notebook.LivePlot(plot="yes")


@pytest.mark.parametrize("height", [50, 1.5, "tall", True])
def test_show_lab_rejects_a_bad_height_before_starting_anything(height):
    with pytest.raises(ValueError, match="height must be"):
        notebook.show_lab(height=height)


# -- a real notebook, executed headless --------------------------------------------------------

CELLS = [
    """\
import json
import numpy as np
import glassnet as gn
x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
y = np.array([0, 1, 1, 0])
model = gn.Sequential([gn.Dense(4, "tanh", input_dim=2, name="hidden"),
                       gn.Dense(2, "softmax", name="out")], seed=1)
model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.Adam(0.05))
model""",
    """\
live = gn.notebook.LivePlot(min_interval=0)
history = model.fit(x, y, epochs=6, batch_size=4, verbose=0, callbacks=[live])
print("updates", live.updates)""",
    "history",
    "model.trace(x[2], y[2])",
    'print(json.dumps([float(v) for v in model.predict(x[2:3])[0]]))',
    """\
lab = gn.notebook.show_lab()
print("url", lab.url)
lab""",
]


def _execute(cells, timeout=60):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbclient.NotebookClient(book, timeout=timeout, kernel_name="python3").execute()
    return book


def _html(cell):
    return "".join(out.get("data", {}).get("text/html", "") for out in cell.outputs)


def _text(cell):
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


def test_a_notebook_shows_the_glass_box_and_the_lab_stops_with_the_kernel():
    pytest.importorskip("matplotlib")
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    book = _execute(CELLS)
    model_cell, fit_cell, history_cell, trace_cell, predict_cell, lab_cell = book.cells
    # the model: its summary table, a row per layer, and its drawing
    rows = _rows(_html(model_cell))
    assert len(rows) == 2 and "hidden (Dense)" in rows[0] and "out (Dense)" in rows[1]
    assert "network drawing" in _html(model_cell)
    # the live plot: one output, redrawn after each of the 6 epochs, holding the last curves
    assert "updates 6" in _text(fit_cell)
    live = [out for out in fit_cell.outputs if out.output_type == "display_data"]
    assert len(live) == 1 and "6 epochs; last: loss" in live[0]["data"]["text/html"]
    assert '<img alt="training curves"' in live[0]["data"]["text/html"]
    # no figure leaks out under the cells as a second picture
    assert all("image/png" not in out.get("data", {}) for cell in book.cells
               for out in cell.outputs)
    assert "6 epochs" in _html(history_cell)
    # the trace's output row: the numbers model.predict gives, digit for digit
    trace_page = _html(trace_cell)
    output = trace_page.split('<tr class="output">', 1)[1].split("</tr></table>", 1)[0]
    shown = [float(v) for v in TITLE.findall(output)]
    assert shown == json.loads(_text(predict_cell))
    assert "glassnet-backward" in trace_page and "<td>δ</td>" in trace_page
    # the lab: an IFrame of the running server; the kernel's exit stopped it
    url = _text(lab_cell).split("url ", 1)[1].split()[0]
    assert f'<iframe class="glassnet-lab" src="{url}"' in _html(lab_cell)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)


def test_show_lab_serves_the_lab_until_stopped_or_the_process_exits(monkeypatch):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    at_exit = []
    monkeypatch.setattr(notebook.atexit, "register", at_exit.append)
    monkeypatch.setattr(notebook.atexit, "unregister", at_exit.remove)
    view = notebook.show_lab(height=400)
    assert at_exit == [view.stop]                         # the kernel's exit stops it
    try:
        # the URL's token becomes a cookie on the first visit, as in the notebook's IFrame
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with browser.open(view.url, timeout=10) as reply:
            assert reply.status == 200 and b"glassnet lab" in reply.read().lower()
        assert 'height="400"' in view._repr_html_()
    finally:
        view.stop()
    view.stop()                                           # again: harmless
    assert at_exit == []
    assert not view.running and "was stopped" in view._repr_html_()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(view.url, timeout=5)

