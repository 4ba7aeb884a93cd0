"""The lab's web server: one page, one WebSocket per tab, training in the server.

Starlette routes (``pip install 'glassnet[lab]'``):

``GET /``                       the page (one self-contained HTML file)
``WS /ws``                      the tab's session: commands in, state out
``GET /model/{session}``        the tab's model as a ``.glassnet`` file
``GET /snippet/{session}``      Python that rebuilds and trains the same network

**The door.**  Training in the server means a web page that could talk to it
could drive it and read its data, so every request passes :class:`Door`
first, as in Jupyter's server: the ``Host`` must be a loopback name (a page of
``evil.example`` whose name an attacker points at 127.0.0.1, *DNS rebinding*,
sends ``Host: evil.example``), a WebSocket's ``Origin`` must be the lab's own
(any other site's page sends its own origin, or ``null``), and the request must
carry the lab's random token: in the URL that ``glassnet lab`` prints and opens
(``?token=...``), then in a cookie that the browser sends to this server only
(``SameSite=Strict``).  Anything else is answered 403.

**Fair to every tab.**  Each WebSocket owns a
:class:`~glassnet.lab.session.LabSession`; closing the tab closes the socket,
which stops that session's training and forgets it.  The playing sessions
train *in turn* on one worker thread, a short tick each (shorter the more tabs
play), and each tick's update of the page is built and encoded as JSON in that
thread too; the event loop only passes messages.  Clicks, uploads and
settings run on other threads, so they never queue behind 20 training tabs.
Every update is bounded in size (see :meth:`LabSession.state`), every
malformed message is answered with a message in the page, and the socket stays
open.  The server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from importlib import resources
from urllib.parse import parse_qs

from ..plotting import PALETTE
from .session import LabError, LabSession

__all__ = ["create_app", "Door", "TICK", "MAX_TABS"]

#: seconds of training between two updates of a tab's page (about 20 updates a second);
#: with n tabs playing, each trains TICK / n seconds per turn (at least MIN_TICK)
TICK = 0.04
MIN_TICK = 0.004
#: open tabs (sessions) one lab serves at once
MAX_TABS = 64
#: a text message longer than this is parsed off the event loop (an upload)
BIG_MESSAGE = 64 * 1024

log = logging.getLogger("glassnet.lab")


def _page():
    page = resources.files("glassnet.lab").joinpath("index.html").read_text(encoding="utf-8")
    return page.replace("/*PALETTE*/null", json.dumps(PALETTE))   # one colour language


class Door:
    """ASGI middleware: only the lab's own page, on this machine, with the token, gets in.

    Parameters
    ----------
    app : ASGI application
    token : str
        The secret every request must carry: ``?token=`` in the URL, or the cookie
        set when the page was first opened with it.
    """

    def __init__(self, app, token):
        if not isinstance(token, str) or len(token) < 16:
            raise ValueError(f"the lab's token must be a string of at least 16 characters; "
                             f"received {token!r}")
        self.app, self.token = app, token
        # cookies do not tell ports apart: each lab's cookie has its own name
        self.cookie = "glassnet-lab-" + hashlib.sha256(token.encode()).hexdigest()[:12]

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):          # lifespan
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", ())}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        reason = self.refusal(scope["type"], headers, query)
        if reason is not None:
            log.warning("glassnet lab refused %s %s: %s", scope["type"], scope.get("path"),
                        reason)
            return await _forbid(scope, receive, send, reason)
        if (scope["type"] == "http" and scope.get("path") == "/" and "token" in query):
            # the first visit: the token goes into this server's cookie and out of the URL
            return await _redirect_with_cookie(send, self.cookie, self.token)
        return await self.app(scope, receive, send)

    def refusal(self, kind, headers, query):
        """Why a request with these headers and query is refused, or None."""
        host = headers.get("host")
        if host is None:
            return "the request has no Host header"
        if not _loopback(host):
            return (f"Host {host!r} is not this machine (127.0.0.1, localhost or [::1]): the "
                    f"lab answers only pages loaded from itself")
        origin = headers.get("origin")
        if origin is None and kind == "websocket":
            return "a WebSocket without an Origin header"
        if origin is not None and origin.lower() != f"http://{host.lower()}":
            return f"Origin {origin!r} is not the lab's own (http://{host})"
        given = query.get("token", [None])[-1]
        if given is None:
            cookie = SimpleCookie()
            try:
                cookie.load(headers.get("cookie", ""))
            except Exception:               # a malformed cookie header: no token in it
                cookie = {}
            given = cookie[self.cookie].value if self.cookie in cookie else None
        if given is None:
            return "no token: open the URL that `glassnet lab` printed (it carries the token)"
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode()):
            return "a wrong token: open the URL that `glassnet lab` printed"
        return None


def _loopback(host):
    """True if a Host header names this machine: localhost, 127.x.x.x or ::1 (any port)."""
    host = host.strip().lower()
    if host.startswith("["):                                   # [::1]:8000
        name, _, rest = host[1:].partition("]")
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return False
    else:
        name, _, port = host.partition(":")
        if port and not port.isdigit():
            return False
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


async def _forbid(scope, receive, send, reason):
    body = (f"403 Forbidden: {reason}.\n").encode()
    if scope["type"] == "websocket":
        await receive()                                      # websocket.connect
        await send({"type": "websocket.close", "code": 1008})   # before accept: HTTP 403
        return
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _redirect_with_cookie(send, name, token):
    cookie = f"{name}={token}; Path=/; HttpOnly; SameSite=Strict"
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()),
                            (b"cache-control", b"no-store"), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


class Lab:
    """What the tabs of one lab share: their sessions and the one thread they train on in
    turn."""

    def __init__(self):
        self.sessions = {}
        self.playing = 0
        self.trainer = ThreadPoolExecutor(1, thread_name_prefix="glassnet-lab-training")

    def close(self):
        for session in self.sessions.values():
            session.playing = False
        self.trainer.shutdown(wait=False, cancel_futures=True)


class Tab:
    """One WebSocket: its session, its training task and what it sends."""

    def __init__(self, socket, lab, session, closed_errors):
        self.socket, self.lab, self.sid = socket, lab, secrets.token_hex(8)
        self.closed_errors = closed_errors      # what sending to a closed tab raises
        self.session = session
        self.runner = None
        self.send_lock = asyncio.Lock()

    async def send(self, message):
        await self.send_text(message if isinstance(message, str) else json.dumps(message))

    async def send_text(self, text):
        async with self.send_lock:
            await self.socket.send_text(text)

    async def encoded(self, method, *args):
        """``method(*args)`` as JSON text, both done in a worker thread."""
        return await asyncio.to_thread(lambda: json.dumps(method(*args)))

    async def send_all(self):
        await self.send(await self.encoded(self.session.data_view))
        await self.send(await self.encoded(self.session.state))

    def tick(self, seconds):
        """One turn on the training thread: train, then the page's update as JSON."""
        if not self.session.playing:
            return None
        self.session.train(seconds)
        return json.dumps(self.session.state())

    async def run(self):
        """Train and report, turn after turn, while playing."""
        loop = asyncio.get_running_loop()
        self.lab.playing += 1
        try:
            while self.session.playing:
                seconds = max(MIN_TICK, TICK / max(self.lab.playing, 1))
                text = await loop.run_in_executor(self.lab.trainer, self.tick, seconds)
                if text is not None:
                    await self.send_text(text)
        except self.closed_errors:
            self.session.playing = False
        except Exception as exc:                  # a bug: said in the page, logged here
            self.session.playing = False
            log.exception("glassnet lab: training failed")
            await self.send({"type": "error", "message": (
                f"training stopped ({type(exc).__name__}: {exc})")})
        finally:
            self.lab.playing -= 1

    def start(self):
        if self.runner is None or self.runner.done():
            self.session.playing = True
            self.runner = asyncio.create_task(self.run())

    async def stop(self):
        """Stop playing at once: a turn still waiting behind other tabs' is given up (one
        already running ends before this session's lock is free)."""
        self.session.playing = False
        if self.runner is not None and not self.runner.done():
            self.runner.cancel()
            await asyncio.gather(self.runner, return_exceptions=True)

    async def handle(self, message):
        command = message.get("cmd")
        if command == "play":
            self.start()
        elif command == "pause":
            await self.stop()
            await self.send(await self.encoded(self.session.state))
        elif command == "step":
            await self.stop()
            await asyncio.to_thread(self.session.train, 0, 1)
            await self.send(await self.encoded(self.session.state))
        elif command in ("reset", "config", "upload"):
            changes = message.get("changes", {})
            if command == "config" and not isinstance(changes, dict):
                raise LabError(f"config takes its changes as an object like "
                               f"{{\"learning_rate\": 0.1}}; received {_kind(changes)}")
            await self.stop()
            if command == "reset":
                await asyncio.to_thread(self.session.configure,
                                        {"seed": self.session.settings["seed"] + 1})
            elif command == "config":
                await asyncio.to_thread(self.session.configure, changes)
            else:
                await asyncio.to_thread(self.session.upload, message.get("name", "upload.csv"),
                                        message.get("text"))
            await self.send_all()
        elif command == "trace":
            split, index = message.get("split"), message.get("index")
            if split not in ("train", "test"):
                raise LabError(f"trace takes split 'train' or 'test'; received {split!r}")
            await self.send(await self.encoded(self.session.trace, split, index))
        else:
            known = "play, pause, step, reset, config, upload, trace"
            raise LabError(f"unknown command {_short(command)}; the lab knows {known}")


def _kind(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number") + f" ({_short(value)})"


def _short(value):
    text = json.dumps(value) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse(text):
    """A message from the page: a JSON object, or a LabError saying what it was instead."""
    try:
        message = json.loads(text)
    except RecursionError:
        raise LabError("a message to the lab is a JSON object like {\"cmd\": \"play\"}; this "
                       "one is nested too deeply to read") from None
    except ValueError as exc:
        raise LabError(f"a message to the lab is a JSON object like {{\"cmd\": \"play\"}}; this "
                       f"one is not JSON ({exc}): {_short(text)}") from None
    if not isinstance(message, dict):
        raise LabError(f"a message to the lab is a JSON object like {{\"cmd\": \"play\"}}; "
                       f"received {_kind(message)}")
    return message


def create_app(model=None, data=None, label="0", token=None):
    """The lab as an ASGI app behind its :class:`Door`.

    Parameters
    ----------
    model : Sequential, optional
        A built model every new tab starts with.
    data : str, optional
        A lab data set or a CSV file every new tab starts with.
    label : str or int, default "0"
        The CSV file's label column.
    token : str, optional
        The secret the page's URL carries; by default a new random one
        (``app.token``).

    Returns
    -------
    Door
        The app; ``app.token`` is its token and ``app.lab.sessions`` its open tabs'
        sessions, by id.
    """
    from starlette.applications import Starlette       # the lab extra
    from starlette.responses import HTMLResponse, PlainTextResponse, Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocketDisconnect, WebSocketState

    lab = Lab()

    def factory():
        if data is not None and os.path.isfile(data):
            session = LabSession({"label": str(label)})
            with open(data, encoding="utf-8", errors="replace") as handle:
                session.upload(os.path.basename(data), handle.read())
        else:
            session = LabSession({"data": data} if data else None)
        if model is not None:
            session.adopt(model)
        return session

    factory()                          # a bad --data or model fails now, not in every tab

    async def index(request):
        return HTMLResponse(_page(), headers={"cache-control": "no-store"})

    async def download_model(request):
        session = lab.sessions.get(request.path_params["sid"])
        if session is None:
            return PlainTextResponse("no such lab session (is its tab still open?)",
                                     status_code=404)
        body = await asyncio.to_thread(session.model_bytes)
        return Response(body, media_type="application/zip", headers={
            "Content-Disposition": 'attachment; filename="lab.glassnet"'})

    async def download_snippet(request):
        session = lab.sessions.get(request.path_params["sid"])
        if session is None:
            return PlainTextResponse("no such lab session", status_code=404)
        return PlainTextResponse(session.snippet(), headers={
            "Content-Disposition": 'inline; filename="lab.py"'})

    async def lab_socket(socket):
        await socket.accept()
        if len(lab.sessions) >= MAX_TABS:
            await socket.send_text(json.dumps({"type": "error", "message": (
                f"the lab has {MAX_TABS} open tabs, its limit; close some and reload")}))
            await socket.close(code=1013)
            return
        try:
            session = await asyncio.to_thread(factory)
        except (LabError, ValueError) as exc:       # e.g. --data changed on disk since
            await socket.send_text(json.dumps({"type": "error", "message": str(exc)}))
            await socket.close(code=1011)
            return
        tab = Tab(socket, lab, session, (WebSocketDisconnect, RuntimeError))
        lab.sessions[tab.sid] = tab.session
        try:
            await tab.send({"type": "hello", "session": tab.sid})
            await tab.send_all()
            while True:
                frame = await socket.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                try:
                    text = frame.get("text")
                    if text is None:
                        raise LabError(f"the lab takes text messages (JSON objects); received "
                                       f"a binary frame of {len(frame.get('bytes') or b''):,} "
                                       f"bytes")
                    message = await asyncio.to_thread(_parse, text) \
                        if len(text) > BIG_MESSAGE else _parse(text)
                    await tab.handle(message)
                except (LabError, ValueError, TypeError, KeyError) as exc:
                    await tab.send({"type": "error", "message": str(exc)})
                except WebSocketDisconnect:
                    raise
                except Exception as exc:          # a bug: said in the page, logged here
                    if WebSocketState.DISCONNECTED in (socket.client_state,
                                                       socket.application_state):
                        raise                     # ... unless the tab is gone
                    log.exception("glassnet lab: a command failed")
                    await tab.send({"type": "error", "message": (
                        f"the lab could not do that ({type(exc).__name__}: {exc})")})
        except WebSocketDisconnect:
            pass
        finally:                        # the tab is gone: stop its training, forget it
            tab.session.playing = False
            if tab.runner is not None:
                tab.runner.cancel()
            lab.sessions.pop(tab.sid, None)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        lab.close()                     # the server stops: so does every tab's training

    starlette = Starlette(routes=[Route("/", index), Route("/model/{sid}", download_model),
                                  Route("/snippet/{sid}", download_snippet),
                                  WebSocketRoute("/ws", lab_socket)],
                          lifespan=lifespan)
    door = Door(starlette, token or secrets.token_urlsafe(24))
    door.lab = lab
    return door
