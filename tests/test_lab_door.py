"""glassnet lab, attacked: the door (Host, Origin, token), malformed messages, and one tab
trying to starve the others.  Every wait is bounded."""
import asyncio
import http.client
import json
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
websockets = pytest.importorskip("websockets")
import glassnet.lab as lab  # noqa: E402
from glassnet.lab.app import Door  # noqa: E402
from glassnet.lab.session import LIMITS, LabError, LabSession  # noqa: E402

TOKEN = "t" * 32


@pytest.fixture
def server():
    url, stop, app = lab._launch()
    port = int(url.split(":")[2].split("/")[0])
    yield url, port, app
    stop()


def _get(port, path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def _cookie(port, token):
    status, headers, _ = _get(port, f"/?token={token}")
    assert status == 303 and headers["location"] == "/"
    return headers["set-cookie"].split(";")[0]


async def _open(port, token, origin="own", host=None, cookie=None):
    origin = f"http://127.0.0.1:{port}" if origin == "own" else origin
    headers = {"Cookie": cookie} if cookie is not None else {}
    query = f"?token={token}" if token else ""
    # the URL's host is the Host header; the connection goes to 127.0.0.1 whatever it says
    return await websockets.connect(f"ws://{host or f'127.0.0.1:{port}'}/ws{query}",
                                    host="127.0.0.1", port=port, origin=origin,
                                    additional_headers=headers, max_size=2 ** 26,
                                    open_timeout=10)


async def _until(ws, kind, timeout=20):
    """The next message of this type (skipping the others)."""
    async def wait():
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message
    return await asyncio.wait_for(wait(), timeout)


def _refused(port, **how):
    async def attempt():
        try:
            ws = await _open(port, **how)
        except websockets.InvalidStatus as exc:
            return exc.response.status_code
        async with ws:                             # it got in: what did it receive?
            return json.loads(await asyncio.wait_for(ws.recv(), 10))
    return asyncio.run(attempt())


# -- the door ------------------------------------------------------------------------------------

def test_http_without_the_token_or_from_another_host_is_forbidden(server):
    url, port, app = server
    assert url == f"http://127.0.0.1:{port}/?token={app.token}"      # start() gives the token
    for path in ("/", "/model/x", "/snippet/x", "/?token=wrong" + app.token[6:]):
        status, _, body = _get(port, path)
        assert status == 403 and b"token" in body, path
    cookie = _cookie(port, app.token)
    assert "HttpOnly" in _get(port, f"/?token={app.token}")[1]["set-cookie"]
    assert "SameSite=Strict" in _get(port, f"/?token={app.token}")[1]["set-cookie"]
    status, _, page = _get(port, "/", {"Cookie": cookie})
    assert status == 200 and b"glassnet lab" in page
    # DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends its name as Host
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}",
                 f"localhost.evil.example:{port}", f"192.168.1.2:{port}", f"0.0.0.0:{port}"):
        status, _, body = _get(port, "/", {"Cookie": cookie, "Host": host})
        assert status == 403 and b"is not this machine" in body, host
    status, _, body = _get(port, "/", {"Cookie": cookie, "Origin": "http://evil.example"})
    assert status == 403 and b"not the lab's own" in body
    for host in (f"localhost:{port}", f"[::1]:{port}", f"127.0.0.1:{port}"):     # allowed
        assert _get(port, "/", {"Cookie": cookie, "Host": host})[0] == 200
    other = Door(None, "x" * 32).cookie                       # another lab's cookie name
    assert _get(port, "/", {"Cookie": f"{other}={app.token}"})[0] == 403


def test_a_websocket_from_another_origin_or_host_gets_nothing(server, tmp_path):
    url, port, app = server
    cookie = _cookie(port, app.token)
    assert _refused(port, token=app.token, origin="http://evil.example") == 403
    assert _refused(port, token=None, origin="http://evil.example", cookie=cookie) == 403
    assert _refused(port, token=app.token, origin=None) == 403            # no Origin
    assert _refused(port, token=app.token, origin="null") == 403          # sandboxed page
    assert _refused(port, token=app.token, origin=f"http://localhost:{port + 1}") == 403
    assert _refused(port, token=None) == 403                              # no token
    wrong = app.token[:-1] + ("y" if app.token.endswith("x") else "x")   # one char off
    assert _refused(port, token=wrong) == 403                               # a wrong one
    # DNS rebinding: Host and Origin agree, but they name another site
    assert _refused(port, token=app.token, host=f"evil.example:{port}",
                    origin=f"http://evil.example:{port}") == 403
    assert _refused(port, token=None, cookie=cookie)["type"] == "hello"   # the lab's own page
    assert _refused(port, token=app.token)["type"] == "hello"


def test_the_secret_csv_does_not_reach_another_origin(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("label,a,b\n" + "".join(f"{i % 2},{i}.123456,{7 * i}.5\n"
                                             for i in range(40)))
    url, stop, app = lab._launch(data=str(secret))
    port = int(url.split(":")[2].split("/")[0])
    try:
        assert _refused(port, token=app.token, origin="http://evil.example") == 403
        assert _refused(port, token=None, origin=f"http://127.0.0.1:{port}") == 403

        async def own():                         # the lab's own page does get the data
            async with await _open(port, app.token) as ws:
                return await _until(ws, "data")
        assert own_rows(asyncio.run(own())) == 40
    finally:
        stop()


def own_rows(view):
    return len(view["train"]["x"]) + len(view["test"]["x"])


HOSTS = st.sampled_from(["127.0.0.1", "localhost", "[::1]", "127.0.0.2", "LOCALHOST"])
FOREIGN = st.one_of(st.sampled_from([
    "evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "0.0.0.0",
    "10.0.0.1", "[::ffff:8.8.8.8]", "localhost:80:80", "[::1]x", "127.0.0.1:port", ""]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz.-", min_size=1, max_size=20).filter(
        lambda h: h != "localhost"))


@settings(max_examples=150, deadline=None)
@given(host=HOSTS, foreign=FOREIGN, port=st.integers(1, 65535), kind=st.sampled_from(
    ["http", "websocket"]), token_in=st.sampled_from(["query", "cookie", "none", "wrong"]))
def test_the_door_lets_in_exactly_the_own_page_with_the_token(host, foreign, port, kind,
                                                             token_in):
    door = Door(None, TOKEN)
    query = {"token": [TOKEN]} if token_in == "query" else \
        {"token": [TOKEN[:-1] + "u"]} if token_in == "wrong" else {}
    headers = {"cookie": f"{door.cookie}={TOKEN}"} if token_in == "cookie" else {}
    own = f"{host}:{port}"
    allowed = door.refusal(kind, {**headers, "host": own, "origin": f"http://{own}"}, query)
    assert (allowed is None) == (token_in in ("query", "cookie"))
    # another host name, with or without a port, whatever the Origin says
    for name in (foreign, f"{foreign}:{port}"):
        for origin in (f"http://{name}", f"http://{own}", None):
            assert door.refusal(kind, {**headers, "host": name,
                                       **({"origin": origin} if origin else {})}, query)
    # the own host with another page's Origin
    assert door.refusal(kind, {**headers, "host": own, "origin": "http://evil.example"}, query)
    assert door.refusal(kind, {**headers, "host": own, "origin": "null"}, query)
    if kind == "websocket":
        assert door.refusal(kind, {**headers, "host": own}, query)       # no Origin


# -- malformed messages: an answer in the page, and the socket stays open --------------------------

def test_every_malformed_message_gets_a_message_and_the_tab_stays_open(server):
    url, port, app = server
    big = "label,a,b\n" + "".join(f"c{i % 6666},{i},{i % 7}\n" for i in range(19_998))
    cases = [
        ("[1,2,3]", "received a list"),
        ('"play"', "received a string"),
        ("42", "received a number"),
        ("null", "received null"),
        ("{not json", "is not JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"cmd": "config", "changes": {"noise": ' + "[" * 50_000 + "]" * 50_000 + "}}",
         "nested too deeply"),
        (b"\x00\x01binary", "received a binary frame of 8 bytes"),
        ({"cmd": 5}, "unknown command 5"),
        ({"nothing": 1}, "unknown command null"),
        ({"cmd": "config", "changes": [1, 2]}, "config takes its changes as an object"),
        ({"cmd": "config", "changes": {"learning_rate": None}},
         "learning_rate must be a number; received nothing"),
        ({"cmd": "config", "changes": {"learning_rate": "abc"}},
         "learning_rate must be a number; received 'abc'"),
        ({"cmd": "config", "changes": {"points": 8, "test_ratio": 0.9}},
         "leaves 0 training and 8 test rows"),
        ({"cmd": "config", "changes": {"batch_size": 1, "points": 20_000}},
         "steps per epoch"),
        ({"cmd": "upload", "name": "empty.csv", "text": ""}, "'empty.csv' is empty"),
        ({"cmd": "upload", "name": "none.csv"}, "file's text as a string; received NoneType"),
        ({"cmd": "upload", "name": "many.csv", "text": big},
         "has 6,666 classes; the lab takes at most 100"),
        ({"cmd": "upload", "name": "tiny.csv", "text": "y,a\n" + "a,1\n" * 40 + "b,2\nb,3\n"},
         "1 classes of 'tiny.csv' are too small to be both trained and tested with a test "
         "fraction of 0.2: 'b' (2 rows)"),
        ({"cmd": "trace", "split": "elsewhere", "index": 0}, "split 'train' or 'test'"),
        ({"cmd": "trace", "split": "train", "index": "0"}, "there is no train point '0'"),
    ]

    async def attack():
        async with await _open(port, app.token) as ws:
            await _until(ws, "state")
            for message, expected in cases:
                if isinstance(message, dict):
                    message = json.dumps(message)
                await ws.send(message)
                error = await _until(ws, "error")
                assert expected in error["message"], (message[:60], error["message"])
            await ws.send(json.dumps({"cmd": "trace", "split": "train", "index": 0}))
            trace = await _until(ws, "trace")                    # still open, still working
            await ws.send(json.dumps({"cmd": "config", "changes": {}}))
            return trace, await _until(ws, "data")
    trace, view = asyncio.run(attack())
    assert trace["index"] == 0
    assert view["settings"]["test_ratio"] == 0.2 and view["settings"]["points"] == 500  # unchanged


def test_a_headerless_csv_keeps_its_first_row_and_says_so(server):
    url, port, app = server
    rows = [f"{i}.5,{2 * i},{['cat', 'dog'][i % 2]}" for i in range(30)]

    async def upload():
        async with await _open(port, app.token) as ws:
            await _until(ws, "state")
            await ws.send(json.dumps({"cmd": "config", "changes": {"label": "-1"}}))
            await _until(ws, "state")
            await ws.send(json.dumps({"cmd": "upload", "name": "pets.csv",
                                      "text": "\n".join(rows) + "\n"}))
            return await _until(ws, "data")
    view = asyncio.run(upload())
    assert view["class_names"] == ["cat", "dog"]
    assert "has no header line" in view["note"] and "numbered 0 to 2" in view["note"]
    session = LabSession({"label": "-1"})
    session.upload("pets.csv", "\n".join(rows) + "\n")
    first = np.concatenate([session.x_train, session.x_test])
    assert len(first) == 30 and [0.5, 0.0] in first.tolist()        # the first line is data


# -- bounded updates -------------------------------------------------------------------------------

def _csv(rng, classes, per_class, features=3):
    labels = np.repeat(np.arange(classes), per_class)
    x = rng.normal(size=(len(labels), features)) + labels[:, None] % 7
    return "y," + ",".join(f"f{j}" for j in range(features)) + "\n" + "".join(
        f"k{c}," + ",".join(f"{v:.3f}" for v in row) + "\n" for c, row in zip(labels, x))


def test_many_classes_are_summarised_and_every_update_stays_small(rng):
    session = LabSession({"label": "y"})
    session.upload("forty.csv", _csv(rng, 40, 6))
    session.train(epochs=2)
    state = session.state()
    assert "confusion" not in state and state["classes"] == 40
    summary = state["confusion_summary"]
    assert len(summary["worst"]) == 10 and all(0 <= w["recall"] <= 1 for w in summary["worst"])
    recalls = [w["recall"] for w in summary["worst"]]
    assert recalls == sorted(recalls)                                    # worst first
    assert all(c["truth"] != c["predicted"] for c in summary["confused"])
    assert len(json.dumps(state)) < 100_000
    assert all("features" in m and "pixels" not in m for m in state["misclassified"])
    session.upload("thirty.csv", _csv(rng, 30, 6))
    matrix = np.array(session.state()["confusion"])
    assert matrix.shape == (30, 30) and matrix.sum() == len(session.x_test)
    with pytest.raises(LabError, match="101 classes; the lab takes at most 100"):
        session.upload("many.csv", _csv(rng, LIMITS["classes"] + 1, 3))


def test_a_wide_network_sends_only_what_the_page_draws(rng):
    session = LabSession({"label": "y", "layers": [{"units": 64, "activation": "relu"}] * 3})
    session.upload("wide.csv", _csv(rng, 3, 20, features=1000))
    state = session.state()
    assert state["network"]["sizes"] == [1000, 64, 64, 64, 3]
    assert all(len(w) <= 8 and all(len(row) <= 8 for row in w)
               for w in state["network"]["weights"])
    largest = max(float(np.abs(layer.kernel).max()) for layer in session.model.layers
                  if layer.kernel is not None)
    assert state["network"]["largest"] == pytest.approx(largest)
    assert len(json.dumps(state)) < 50_000                  # not 1000 × 64 weights a tick


def test_the_loss_curves_are_per_epoch_and_thinned_for_long_runs():
    session = LabSession({"data": "and", "points": 40, "batch_size": 32})
    session.train(epochs=20)
    state = session.state()
    assert state["history_epochs"] == list(range(1, 21))
    assert state["history"]["loss"] == pytest.approx(session.model.history.history["loss"],
                                                      abs=1e-6)
    session.train(epochs=700)
    state = session.state()
    epochs = state["history_epochs"]
    assert len(epochs) <= 300 and epochs[0] == 1 and epochs[-1] == 720
    assert np.all(np.diff(epochs) > 0) and len(state["history"]["val_loss"]) == len(epochs)
    full = session.model.history.history["val_loss"]
    assert state["history"]["val_loss"] == pytest.approx([full[e - 1] for e in epochs],
                                                          abs=1e-6)


def test_images_only_for_image_data():
    session = LabSession({"data": "digits"})
    session.train(epochs=1)
    shown = session.state()["misclassified"]
    assert shown and all(len(m["pixels"]) == 64 for m in shown)


# -- fair to every tab -----------------------------------------------------------------------------

def test_a_6666_class_upload_keeps_no_other_tab_waiting(server):
    url, port, app = server
    big = "label,a,b\n" + "".join(f"c{i % 6666},{i},{i % 7}\n" for i in range(19_998))
    assert len(big) > 200_000

    async def race():
        async with await _open(port, app.token) as uploader, \
                await _open(port, app.token) as other:
            await _until(uploader, "state")
            await _until(other, "state")
            await other.send(json.dumps({"cmd": "play"}))
            await _until(other, "state")
            waits = []
            for _ in range(3):
                await uploader.send(json.dumps({"cmd": "upload", "name": "big.csv",
                                                "text": big}))
                sent = time.perf_counter()
                await other.send(json.dumps({"cmd": "trace", "split": "train", "index": 1}))
                await _until(other, "trace", timeout=10)
                waits.append(time.perf_counter() - sent)
                error = await _until(uploader, "error")
                assert "6,666 classes" in error["message"]
            await uploader.send(json.dumps({"cmd": "upload", "name": "big.csv", "text": big}))
            opened = time.perf_counter()                   # and a new tab opens meanwhile
            async with await _open(port, app.token) as new:
                await _until(new, "state", timeout=10)
                waits.append(time.perf_counter() - opened)
            return waits
    waits = asyncio.run(race())
    assert max(waits) < 1.0, waits


def test_twenty_training_tabs_and_a_lone_tab_still_served(server):
    url, port, app = server

    async def crowd():
        others = [await _open(port, app.token) for _ in range(20)]
        received = [0] * 20

        async def drain(k, ws):
            try:
                async for _ in ws:
                    received[k] += 1
            except websockets.ConnectionClosed:
                pass
        drains = [asyncio.create_task(drain(k, ws)) for k, ws in enumerate(others)]
        for ws in others:
            await ws.send(json.dumps({"cmd": "play"}))
        async with await _open(port, app.token) as lone:
            await _until(lone, "state")
            await asyncio.sleep(1.0)                                 # all 20 are training
            assert len(app.lab.sessions) == 21 and app.lab.playing == 20
            await lone.send(json.dumps({"cmd": "play"}))
            start, updates = time.perf_counter(), 0
            while time.perf_counter() - start < 4:
                await _until(lone, "state")
                updates += 1
            waits = []
            for index in range(3):
                sent = time.perf_counter()
                await lone.send(json.dumps({"cmd": "trace", "split": "train", "index": index}))
                await _until(lone, "trace", timeout=10)
                waits.append(time.perf_counter() - sent)
            sent = time.perf_counter()                   # pause: no waiting for its turn
            await lone.send(json.dumps({"cmd": "pause"}))
            while (await _until(lone, "state"))["playing"]:
                pass
            waits.append(time.perf_counter() - sent)
            assert app.lab.playing == 20
        for ws in others:
            await ws.close()
        await asyncio.gather(*drains)
        return updates, waits, received
    updates, waits, received = asyncio.run(crowd())
    assert updates >= 4, updates                         # about 1/21 of the training, still
    assert min(received) >= 3, received                  # every tab had its turns
    assert sorted(waits[:3])[1] < 1.0, waits             # a click: a fraction of a second
    assert waits[3] < 1.0, waits                         # and so is pause


def test_tabs_beyond_the_limit_are_told_so(server, monkeypatch):
    import glassnet.lab.app as lab_app
    url, port, app = server
    monkeypatch.setattr(lab_app, "MAX_TABS", 2)

    async def crowd():
        first, second = await _open(port, app.token), await _open(port, app.token)
        await _until(first, "state")
        await _until(second, "state")
        async with await _open(port, app.token) as third:
            error = json.loads(await asyncio.wait_for(third.recv(), 10))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(third.recv(), 10)
        await first.close()
        await second.close()
        return error, closed.value.rcvd.code
    error, code = asyncio.run(crowd())
    assert error == {"type": "error",
                     "message": "the lab has 2 open tabs, its limit; close some and reload"}
    assert code == 1013
    assert len(app.lab.sessions) <= 2
