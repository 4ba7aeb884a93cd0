"""glassnet lab: the session logic without a browser, then the page in a real one."""
import shutil
import time

import numpy as np
import pytest

import glassnet as gn

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
from glassnet.lab.app import SESSIONS  # noqa: E402
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
                 "--disable-component-update", "--disable-sync", "--window-size=1500,1000"):
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def server():
    import glassnet.lab as lab
    url, stop = lab.start()
    yield url
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
    x, y = browser.execute_script(
        "const p = window.lab.data.train, b = window.lab.data.bounds;"
        "return [(p.x[5] - b[0]) / (b[2] - b[0]) * 400, (1 - (p.y[5] - b[1]) / (b[3] - b[1])) * 400]")
    canvas = browser.find_element("id", "regions")
    ActionChains(browser).move_to_element_with_offset(canvas, x - 200, y - 200).click().perform()
    _wait(browser, "return window.lab.trace")
    shown = browser.execute_script("return window.lab.trace")
    session = next(iter(SESSIONS.values()))
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
    assert len(SESSIONS) == 2
    browser.close()                                                       # closing a tab ...
    browser.switch_to.window(browser.window_handles[0])
    _wait(browser, "return true")
    end = time.time() + 10
    while len(SESSIONS) != 1 and time.time() < end:
        time.sleep(0.1)
    assert len(SESSIONS) == 1                                             # ... ends its session
