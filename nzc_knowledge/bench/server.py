"""A real uvicorn server in a background thread, for latency benchmarks and live-server tests.

It serves whatever ASGI app it is given: the caller (a composition root: `nzc bench`, a test) builds it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(app: Any, timeout: float = 120.0) -> Iterator[str]:
    """Serve the ASGI `app` on 127.0.0.1:<free port> until the block ends; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="nzc-live-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the server did not start on {base_url}")
        time.sleep(0.05)
    httpx.get(f"{base_url}/health", timeout=timeout)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
