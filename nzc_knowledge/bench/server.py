"""A real uvicorn server in a background thread, for latency benchmarks and live-server tests.

It serves whatever ASGI app it is given: the caller (a composition root: `nzc bench`, a test) builds it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn


LOOPBACK = "127.0.0.1"


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


@contextmanager
def serve_in_child(index_dir: Path, log_path: Path, start_timeout: float, extra_args: Sequence[str] = (),
                   extra_env: Mapping[str, str] | None = None) -> Iterator[tuple[str, int, float]]:
    """`nzc serve` on 127.0.0.1:<free port> in a child process (the benchmarks measure a real server's memory and
    start-up); yields (base URL, pid, seconds from start to a healthy answer) and stops it afterwards."""
    port = free_port()
    environment = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", **(extra_env or {}))
    command = [sys.executable, "-m", "nzc_knowledge.cli", "serve", "--host", LOOPBACK, "--port", str(port),
               "--index-dir", str(index_dir), *extra_args]
    base_url = f"http://{LOOPBACK}:{port}"
    with log_path.open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited with {process.returncode}: {log_path.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{base_url}/health", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() - started > start_timeout:
                    raise RuntimeError(f"the server did not answer /health within {start_timeout:.0f} s")
                time.sleep(0.25)
            yield base_url, process.pid, time.monotonic() - started
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
