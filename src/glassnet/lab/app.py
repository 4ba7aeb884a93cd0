"""The lab's web server: one page, one WebSocket per tab, training in the server.

Starlette routes (``pip install 'glassnet[lab]'``):

``GET /``                       the page (one self-contained HTML file)
``WS /ws``                      the tab's session: commands in, state out
``GET /model/{session}``        the tab's model as a ``.glassnet`` file
``GET /snippet/{session}``      Python that rebuilds and trains the same network

Each WebSocket owns a :class:`~glassnet.lab.session.LabSession`; closing the
tab closes the socket, which stops that session's training and forgets it.
Training runs in a worker thread (``asyncio.to_thread``), so one tab's
training, a diverging learning rate or a bad upload never stops the server
from answering the others.  The server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from importlib import resources

from .session import LabError, LabSession

__all__ = ["create_app", "SESSIONS"]

#: the open tabs' sessions, by id
SESSIONS = {}
#: seconds of training between two updates of the page (about 20 updates a second)
TICK = 0.04


def _page():
    return resources.files("glassnet.lab").joinpath("index.html").read_text(encoding="utf-8")


class Tab:
    """One WebSocket: its session, its training task and what it sends."""

    def __init__(self, socket, factory, closed_errors):
        self.socket, self.sid = socket, secrets.token_hex(8)
        self.closed_errors = closed_errors      # what sending to a closed tab raises
        self.session = factory()
        self.runner = None
        self.send_lock = asyncio.Lock()

    async def send(self, message):
        async with self.send_lock:
            await self.socket.send_text(json.dumps(message))

    async def send_all(self):
        await self.send(self.session.data_view())
        await self.send(await asyncio.to_thread(self.session.state))

    async def run(self):
        """Train and report, tick after tick, while playing."""
        try:
            while self.session.playing:
                await asyncio.to_thread(self.session.train, TICK)
                await self.send(await asyncio.to_thread(self.session.state))
        except self.closed_errors:
            self.session.playing = False

    def start(self):
        if self.runner is None or self.runner.done():
            self.session.playing = True
            self.runner = asyncio.create_task(self.run())

    async def stop(self):
        self.session.playing = False
        if self.runner is not None:
            await asyncio.gather(self.runner, return_exceptions=True)

    async def handle(self, message):
        command = message.get("cmd")
        if command == "play":
            self.start()
        elif command == "pause":
            await self.stop()
            await self.send(await asyncio.to_thread(self.session.state))
        elif command == "step":
            await self.stop()
            await asyncio.to_thread(self.session.train, 0, 1)
            await self.send(await asyncio.to_thread(self.session.state))
        elif command in ("reset", "config", "upload"):
            await self.stop()
            if command == "reset":
                await asyncio.to_thread(self.session.configure,
                                        {"seed": self.session.settings["seed"] + 1})
            elif command == "config":
                await asyncio.to_thread(self.session.configure, message.get("changes") or {})
            else:
                await asyncio.to_thread(self.session.upload, message.get("name", "upload.csv"),
                                        message.get("text"))
            await self.send_all()
        elif command == "trace":
            await self.send(await asyncio.to_thread(self.session.trace, message.get("split"),
                                                    message.get("index")))
        else:
            raise LabError(f"unknown command {command!r}")


def create_app(model=None, data=None, label="0"):
    """The lab as an ASGI app; ``model``, ``data`` (a lab data set or a CSV file) and
    ``label`` (the CSV file's label column) preset every new tab."""
    from starlette.applications import Starlette       # the lab extra
    from starlette.responses import HTMLResponse, PlainTextResponse, Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocketDisconnect

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
        return HTMLResponse(_page())

    async def download_model(request):
        session = SESSIONS.get(request.path_params["sid"])
        if session is None:
            return PlainTextResponse("no such lab session (is its tab still open?)",
                                     status_code=404)
        body = await asyncio.to_thread(session.model_bytes)
        return Response(body, media_type="application/zip", headers={
            "Content-Disposition": 'attachment; filename="lab.glassnet"'})

    async def download_snippet(request):
        session = SESSIONS.get(request.path_params["sid"])
        if session is None:
            return PlainTextResponse("no such lab session", status_code=404)
        return PlainTextResponse(session.snippet(), headers={
            "Content-Disposition": 'inline; filename="lab.py"'})

    async def lab_socket(socket):
        await socket.accept()
        tab = Tab(socket, factory, (WebSocketDisconnect, RuntimeError))
        SESSIONS[tab.sid] = tab.session
        try:
            await tab.send({"type": "hello", "session": tab.sid})
            await tab.send_all()
            while True:
                text = await socket.receive_text()
                try:
                    await tab.handle(json.loads(text))
                except (LabError, ValueError, TypeError, KeyError) as exc:
                    await tab.send({"type": "error", "message": str(exc)})
        except WebSocketDisconnect:
            pass
        finally:                        # the tab is gone: stop its training, forget it
            tab.session.playing = False
            if tab.runner is not None:
                tab.runner.cancel()
            SESSIONS.pop(tab.sid, None)

    return Starlette(routes=[Route("/", index), Route("/model/{sid}", download_model),
                             Route("/snippet/{sid}", download_snippet),
                             WebSocketRoute("/ws", lab_socket)])
