"""Threaded werkzeug servers on 127.0.0.1 with ephemeral ports, started and stopped from a background thread."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """No access log lines on stderr (the site's call log records every request), no noise on dropped sockets.

    Speaks HTTP/1.1, so a client's pooled connection is kept alive across requests as Jira's edge does (werkzeug
    then frames every answer with Content-Length or chunked encoding); HTTP/1.0 cost a TCP handshake and a new
    server thread per request.
    """

    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        return None


class ServerThread:
    """One WSGI app served on ``127.0.0.1:<port>`` (``port=0``: the OS picks a free one)."""

    def __init__(self, app: Any, port: int = 0, host: str = "127.0.0.1") -> None:
        self.server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self.port: int = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fakejira-{self.port}", daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
