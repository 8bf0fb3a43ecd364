"""Serve any WSGI app (the app under test, a scripted stub) on a loopback port for the length of a block."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server


@contextmanager
def serve(wsgi_app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``wsgi_app`` on an ephemeral loopback port; yields its base URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its access log would print page JWTs
    server = make_server(host, 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"loopback-{server.port}", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
