"""glassnet lab: the session logic without a browser, then the page in a real one."""
import shutil
import time

import numpy as np
import pytest

import glassnet as gn

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
from glassnet.lab.session import LIMITS, LabError, LabSession  # noqa: E402


# -- the session, without a server ----------------------------------------------------------------

def test_training_in_the_session_is_glassnets_fit_and_lowers_the_loss():
    session = LabSession({"data": "xor", "layers": [{"units": 6, "activation": "tanh"}]})
    session.train(epochs=1)
    first = session.model.history.history["loss"][0]
    session.train(epochs=60)
    history = session.model.history.history
    assert history["loss"][-1] < first / 2 and "val_loss" in history    # the test split
    state = session.state()
    assert len(state["regions"]) == 48 * 48 and len(state["neurons"]) == 2   # hidden, output
    assert state["network"]["sizes"] == [2, 6, 1]


def test_a_clicked_points_trace_is_model_trace():
    session = LabSession({"data": "circles"})
    session.train(epochs=5)
    shown = session.trace("test", 3)
    real = session.model.trace(session.x_test[3], session.y_test[3])
    assert shown["loss"] == real.loss
    assert [lt["title"] for lt in shown["layers"]] == [lt.title for lt in real.layers]
    z = real.layers[0].get("z")
    assert shown["layers"][0]["forward"][3]["label"] == "z"
    assert shown["layers"][0]["forward"][3]["text"] == np.array2string(
        np.round(z.astype(np.float64), 4) + 0.0, precision=4, suppress_small=True,
        max_line_width=80, threshold=60)


@pytest.mark.parametrize("data", ["xor", "and", "circles", "blobs", "spirals", "image2x2",
                                  "linear", "cubic", "digits"])
def test_every_data_set_trains_and_draws(data):
    session = LabSession({"data": data, "points": 200})
    session.train(epochs=2)
    state = session.state()
    assert np.isfinite(state["history"]["loss"]).all()
    if session.x_train.shape[1] == 2:
        assert "regions" in state
    elif session.x_train.shape[1] == 1:
        assert len(state["curve"]["y"]) == 120
    else:
        assert "confusion" in state and "misclassified" in state


def test_uploaded_csv_with_names_is_standardised_and_bad_ones_are_refused(rng):
    session = LabSession()
    x = rng.normal(100, 30, size=(90, 2)).round(2)
    names = np.array(["cat", "dog", "eel"])[np.argsort(np.argsort(x[:, 0])) * 3 // 90]
    text = "a,b,kind\n" + "\n".join(f"{u},{v},{k}" for (u, v), k in zip(x, names)) + "\n"
    session.configure({"label": "kind"})
    session.upload("pets.csv", text)
    assert session.class_names == ("cat", "dog", "eel") and session.task == "multiclass"
    assert type(session.model.layers[0]).__name__ == "Normalization"
    with pytest.raises(LabError, match=r"'bad.csv', line 3, column 2: expected a number"):
        session.upload("bad.csv", "a,b,kind\n1,2,cat\n3,,dog\n")
    assert session.class_names == ("cat", "dog", "eel")        # the good data stayed
    with pytest.raises(LabError, match="5,000,004 bytes, more than the lab's limit of 5 MB"):
        session.upload("big.csv", "1,2\n" * (LIMITS["upload_bytes"] // 4 + 1))


def test_the_lab_refuses_networks_too_large_and_reports_divergence():
    session = LabSession()
    with pytest.raises(LabError, match="up to 6 hidden layers"):
        session.configure({"layers": [{"units": 4, "activation": "tanh"}] * 7})
    with pytest.raises(LabError, match="1 to 64 neurons"):
        session.configure({"layers": [{"units": 1000, "activation": "tanh"}]})
    wide = "\n".join(",".join(["0"] + ["1"] * 4000) for _ in range(10)) + "\n"
    session.configure({"layers": [{"units": 64, "activation": "relu"}]})
    with pytest.raises(LabError, match="weights; the lab's limit is 200,000"):
        session.upload("wide.csv", wide)               # 4000 inputs x 64 neurons
    session = LabSession({"data": "cubic", "learning_rate": 10.0, "optimizer": "sgd"})
    session.playing = True
    session.train(epochs=50)
    assert not session.playing and "Training diverged" in session.state()["message"]


def test_the_loss_can_be_chosen_among_those_that_fit_the_task():
    session = LabSession({"data": "circles", "loss": "mse"})
    assert session.model.loss.name == "mse"
    with pytest.raises(LabError, match="does not fit this data set; choose one of mse, mae"):
        session.configure({"data": "cubic", "loss": "binary_crossentropy"})
    assert session.settings["data"] == "circles"               # refused: nothing changed


def test_take_it_home_model_and_snippet(tmp_path):
    session = LabSession({"data": "circles", "layers": [{"units": 5, "activation": "relu"}]})
    session.train(epochs=3)
    path = tmp_path / "lab.glassnet"
    path.write_bytes(session.model_bytes())
    loaded = gn.load_model(path)
    np.testing.assert_array_equal(loaded.predict(session.x_test), session.model.predict(
        session.x_test))
    namespace = {}
    code = session.snippet().replace("epochs=100", "epochs=3").replace("verbose=1", "verbose=0")
    exec(compile(code, "lab.py", "exec"), namespace)          # the snippet runs as written
    rebuilt = namespace["model"]
    assert rebuilt.layers[0].units == 5
    # the same data, network, seed and settings: the same training, weight for weight
    for a, b in zip(rebuilt.get_weights(), session.model.get_weights()):
        np.testing.assert_array_equal(a, b)


# -- the page, in a real browser --------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Debian's chromium and chromium-driver packages are not installed")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1366,768"):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


class Server(str):
    """The lab's URL (with its token), and its app (``.app.lab.sessions``: the open tabs)."""


@pytest.fixture
def server():
    import glassnet.lab as lab
    url, stop, app = lab._launch()
    served = Server(url)
    served.app = app
    yield served
    stop()


def _wait(driver, script, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def test_play_learns_the_regions_change_and_a_click_shows_the_real_trace(browser, server,
                                                                         tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    browser.get(server)
    _wait(browser, "return window.lab.state && window.lab.data")
    before = browser.execute_script("return document.getElementById('regions').toDataURL()")
    browser.find_element("id", "play").click()
    _wait(browser, "return window.lab.state.steps > 3000")
    browser.find_element("id", "pause").click()
    _wait(browser, "return !window.lab.state.playing")
    history = browser.execute_script("return window.lab.state.history")
    assert history["loss"][-1] < history["loss"][0]              # the loss shown falls
    assert float(browser.find_element("id", "loss").text) == pytest.approx(
        history["loss"][-1], abs=1e-4)
    after = browser.execute_script("return document.getElementById('regions').toDataURL()")
    assert after != before                                        # the regions changed
    # click the 5th training point: the page shows model.trace of that very point
    x, y, size = browser.execute_script(
        "const p = window.lab.data.train, b = window.lab.data.bounds,"
        "      s = document.getElementById('regions').width;"
        "return [(p.x[5] - b[0]) / (b[2] - b[0]) * s,"
        "        (1 - (p.y[5] - b[1]) / (b[3] - b[1])) * s, s]")
    canvas = browser.find_element("id", "regions")
    ActionChains(browser).move_to_element_with_offset(canvas, x - size / 2,
                                                      y - size / 2).click().perform()
    _wait(browser, "return window.lab.trace")
    shown = browser.execute_script("return window.lab.trace")
    session = next(iter(server.app.lab.sessions.values()))
    real = session.model.trace(session.x_train[shown["index"]], session.y_train[shown["index"]])
    assert shown["split"] == "train"
    assert float(browser.find_element("id", "trace-loss").text) == pytest.approx(real.loss,
                                                                                  rel=1e-5)
    page_z = shown["layers"][0]["forward"][3]["text"]
    assert page_z in browser.find_element("id", "trace").text
    browser.save_screenshot(str(tmp_path / "lab.png"))


def test_a_bad_upload_shows_a_message_while_another_tab_keeps_training(browser, server,
                                                                       tmp_path):
    browser.get(server)
    _wait(browser, "return window.lab.state")
    browser.find_element("id", "play").click()
    _wait(browser, "return window.lab.state.steps > 500")
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(server)
    _wait(browser, "return window.lab.state")
    bad = tmp_path / "broken.csv"
    bad.write_text("a,b,label\n1,2,0\n3,oops,1\n")
    browser.find_element("id", "upload").send_keys(str(bad))
    message = _wait(browser, "return window.lab.lastError")
    assert "broken.csv', line 3, column 2: expected a number, found 'oops'" in message
    assert "broken.csv" in browser.find_element("id", "message").text
    browser.switch_to.window(first)
    steps = browser.execute_script("return window.lab.state.steps")
    _wait(browser, f"return window.lab.state.steps > {steps}")          # still training
    sessions = server.app.lab.sessions
    assert len(sessions) == 2
    browser.close()                                                       # closing a tab ...
    browser.switch_to.window(browser.window_handles[0])
    _wait(browser, "return true")
    end = time.time() + 10
    while len(sessions) != 1 and time.time() < end:
        time.sleep(0.1)
    assert len(sessions) == 1                                             # ... ends its session


def test_the_page_as_a_learner_sees_it(browser, server, tmp_path, rng):
    """Issue #23: values shown, bad numbers said, a loss chart with axes, nothing left over
    from the previous data set, images only for images, and no sideways scrolling."""
    browser.get(server)
    _wait(browser, "return window.lab.state && window.lab.data")
    assert browser.find_element("id", "noise-value").text == "0.10"      # sliders show values
    assert browser.find_element("id", "test_ratio-value").text == "0.20"
    from selenium.webdriver.common.keys import Keys
    rate = browser.find_element("id", "learning_rate")
    rate.send_keys(Keys.CONTROL, "a")
    rate.send_keys("abc\t")
    message = _wait(browser, "return window.lab.lastError")
    assert message == 'learning rate must be a number; received "abc" (still 0.03)'
    assert rate.get_attribute("value") == "0.03"
    browser.find_element("id", "play").click()
    _wait(browser, "return window.lab.state.epoch >= 30")
    browser.find_element("id", "pause").click()
    axes = _wait(browser, "return window.lab.curveAxes.lastEpoch >= 30 && window.lab.curveAxes")
    losses = browser.execute_script("return window.lab.state.history.loss"
                                    ".concat(window.lab.state.history.val_loss)")
    assert axes["scale"] == "log" and len(axes["xTicks"]) >= 2 and axes["yTicks"]
    assert min(losses) / 10 < min(axes["yTicks"]) and max(axes["yTicks"]) < max(losses) * 10
    legend = browser.find_element("id", "curves-legend").text
    assert "train loss" in legend and "test loss" in legend and "test accuracy" in legend
    wide = "return document.documentElement.scrollWidth <= window.innerWidth"
    assert browser.execute_script(wide)                              # 1366 px: no sideways
    browser.execute_script("config({data: 'digits'})")
    _wait(browser, "return window.lab.data.inputs === 64 && window.lab.state.misclassified")
    assert browser.find_element("id", "view-title").text == "Test set: confusion matrix"
    assert not browser.find_element("id", "regions").is_displayed()   # no scatter left over
    assert not browser.find_element("id", "legend").is_displayed()
    images = browser.find_elements("css selector", "#misclassified canvas")
    assert images and all(c.get_attribute("width") == "8" for c in images)
    assert browser.execute_script(wide)
    # a CSV of measurements (not images): the misclassified are rows of a table, not pixels
    names = np.array(["setosa", "versicolor", "virginica"])
    labels = np.repeat([0, 1, 2], 20)
    x = rng.normal(size=(60, 4)) + labels[:, None]
    flowers = tmp_path / "flowers.csv"
    flowers.write_text("a,b,c,d,species\n" + "".join(
        ",".join(f"{v:.2f}" for v in row) + f",{names[k]}\n" for row, k in zip(x, labels)))
    browser.execute_script("config({label: 'species'})")
    _wait(browser, "return window.lab.data.settings.label === 'species'")
    browser.find_element("id", "upload").send_keys(str(flowers))
    _wait(browser, "return window.lab.data.inputs === 4 && window.lab.state.misclassified"
                   " && window.lab.state.classes === 3")
    assert not browser.find_elements("css selector", "#misclassified canvas")
    rows = browser.find_elements("css selector", "#misclassified tr.row")
    assert len(rows) == len(browser.execute_script("return window.lab.state.misclassified"))
    rows[0].click()                                           # a row traces its test point
    traced = _wait(browser, "return window.lab.trace")
    assert traced["split"] == "test" and len(traced["x"]) == 4
    assert browser.execute_script(wide)


def test_one_colour_language_for_the_lab_the_report_and_the_plots(browser, server):
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex
    from glassnet.plotting import PALETTE, plot_history, plot_network, region_colors
    browser.get(server)
    _wait(browser, "return window.lab.state")
    shown = browser.execute_script("return window.lab.palette")
    assert shown == {key: list(v) if isinstance(v, tuple) else v for key, v in PALETTE.items()}
    model = gn.Sequential([gn.Dense(3, "tanh"), gn.Dense(1, "sigmoid")], seed=0)
    model.build(2)
    figure = plot_network(model)                       # the report's drawing of the network
    weights = np.concatenate([layer.kernel.ravel() for layer in model.layers])
    colours = [to_hex(line.get_color()) for line in figure.axes[0].lines]
    assert colours == [PALETTE["positive"] if w >= 0 else PALETTE["negative"] for w in weights]
    assert [to_hex(c) for c in region_colors(3)[1]] == list(PALETTE["classes"][:3])
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    x = np.random.default_rng(0).normal(size=(20, 2))
    history = model.fit(x, (x[:, 0] > 0).astype(float), epochs=2, validation_data=(x, x[:, 0] > 0),
                        verbose=0)
    figure = plot_history(history)                      # the report's curves: the lab's colours
    loss_axes, accuracy_axes = figure.axes
    assert [(to_hex(line.get_color()), line.get_linestyle()) for line in loss_axes.lines] == \
        [(PALETTE["loss"], "-"), (PALETTE["loss"], "--")]
    assert {to_hex(line.get_color()) for line in accuracy_axes.lines} == {PALETTE["accuracy"]}


def test_class_names_from_an_uploaded_file_are_text_not_html(browser, server, tmp_path, rng):
    evil = '<img src=x onerror="window.pwned=1">'
    x = rng.normal(size=(40, 3))
    hostile = tmp_path / "hostile.csv"
    hostile.write_text("a,b,c,kind\n" + "".join(
        ",".join(f"{v:.2f}" for v in row) + f",{evil if k % 2 else '<b>bold</b>'}\n"
        for k, row in enumerate(x)))
    browser.get(server)
    _wait(browser, "return window.lab.state")
    browser.execute_script("config({label: 'kind'})")
    _wait(browser, "return window.lab.data.settings.label === 'kind'")
    browser.find_element("id", "upload").send_keys(str(hostile))
    _wait(browser, "return window.lab.data.inputs === 3 && window.lab.state.confusion")
    browser.find_element("id", "step").click()
    time.sleep(0.5)
    assert browser.execute_script("return window.pwned") is None
    table = browser.find_element("id", "confusion").text
    assert "<b>bold</b>" in table and evil in table                     # shown as written
