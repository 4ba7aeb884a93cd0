"""glassnet lab: watch a network learn, and open any neuron, in the browser.

``glassnet lab`` (or ``glassnet.lab.serve()`` from Python or a notebook) starts
a local web app on 127.0.0.1 and opens the browser: pick a data set (or upload
a CSV file), shape the network, press play and watch the loss, the decision
regions and every neuron change; click a point to see its equations with the
network's own numbers.  It trains with glassnet itself, in the server.

Needs ``pip install 'glassnet[lab]'`` (Starlette and uvicorn).
"""

from __future__ import annotations

import socket
import threading
import webbrowser

from .app import create_app

__all__ = ["serve", "start"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server(model, data, port, label="0"):
    try:
        import uvicorn
    except ImportError:
        raise ImportError('the lab needs Starlette and uvicorn: pip install "glassnet[lab]"') \
            from None
    app = create_app(model=model, data=data, label=label)
    config = uvicorn.Config(app, host="127.0.0.1", port=port or _free_port(), log_level="warning",
                            ws_max_size=8 * 1024 * 1024)
    server = uvicorn.Server(config)
    url = f"http://127.0.0.1:{config.port}/?token={app.token}"
    return server, app, url


def serve(model=None, data=None, port=0, open_browser=True, label="0"):
    """Run the lab until Ctrl-C (blocks; in a notebook use :func:`start`).

    Prints the lab's URL, which carries its secret token: only a browser that opened it
    (and keeps the cookie it sets) gets in, see :class:`glassnet.lab.app.Door`.

    Parameters
    ----------
    model : Sequential, optional
        A built model every new tab starts with (its inputs must fit ``data``).
    data : str, optional
        A data set of the lab (xor, circles, spirals, digits, ...) or a CSV file.
    label : str or int, default "0"
        The CSV file's label column: its name or index.
    port : int, default 0
        0 picks a free port.  The server listens on 127.0.0.1 only.
    """
    server, _, url = _server(model, data, port, label)
    print(f"glassnet lab at {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    server.run()


def start(model=None, data=None, port=0, label="0"):
    """Run the lab in a background thread; returns ``(url, stop)``.

    ``url`` carries the lab's token (open it in a browser, or ``IPython.display`` it);
    ``stop()`` stops the server.  The parameters are :func:`serve`'s.
    """
    url, stop, _ = _launch(model, data, port, label)
    return url, stop


def _launch(model=None, data=None, port=0, label="0"):
    """:func:`start`, also returning the app (its ``token``, and ``lab.sessions``)."""
    server, app, url = _server(model, data, port, label)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the lab server did not start")
        threading.Event().wait(0.05)

    def stop():
        server.should_exit = True
        thread.join(timeout=10)
    return url, stop, app
