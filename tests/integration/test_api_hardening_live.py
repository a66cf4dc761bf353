"""Authentication and body caps before the body is read, on a real uvicorn server (no index: nothing here needs
one), because only a real server shows whether a body was received and whether `100 Continue` was sent.
"""

from __future__ import annotations

import re
import socket
import time

import pytest

from nzc_knowledge.api.app import create_app
from hardening_settings import REQUEST_LIMIT, TOKEN, UPLOAD_LIMIT, settings_for

TWENTY_MB = 20_000_000


@pytest.fixture
def live(tmp_path):
    from nzc_knowledge.bench.server import live_server

    settings = settings_for(tmp_path)
    with live_server(create_app(settings), timeout=60) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield host, int(port), settings


def send_head(host: str, port: int, head: str) -> socket.socket:
    """Open a connection and send only the request line and headers (no body)."""
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
    return sock


def read_response(sock: socket.socket, timeout: float = 5.0) -> str:
    """What the server sends within `timeout` s, until it closes or a full response has arrived."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
            if b"\r\n\r\n" in data and not head.startswith(b"HTTP/1.1 100") and length and len(body) >= int(length.group(1)):
                break
    except TimeoutError:
        pass
    return data.decode("latin-1")


def upload_head(port: int, content_length: int, token: str | None = None, expect: bool = False) -> str:
    lines = ["POST /admin/resources HTTP/1.1", f"Host: 127.0.0.1:{port}",
             "Content-Type: multipart/form-data; boundary=xyz", f"Content-Length: {content_length}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if expect:
        lines.append("Expect: 100-continue")
    return "\n".join(lines) + "\n"


def test_unauthenticated_upload_is_refused_before_its_body_is_sent(live):
    host, port, _ = live
    started = time.monotonic()
    with send_head(host, port, upload_head(port, TWENTY_MB)) as sock:
        answer = read_response(sock)
    assert answer.startswith("HTTP/1.1 401"), answer[:200]
    assert "missing bearer token" in answer
    assert time.monotonic() - started < 5  # the server did not wait for the 20 MB


def test_wrong_token_is_403_before_the_body(live):
    host, port, _ = live
    with send_head(host, port, upload_head(port, TWENTY_MB, token="wrong")) as sock:
        answer = read_response(sock)
    assert answer.startswith("HTTP/1.1 403") and "invalid admin token" in answer


def test_oversized_upload_with_a_valid_token_is_413_before_the_body(live):
    host, port, _ = live
    with send_head(host, port, upload_head(port, TWENTY_MB, token=TOKEN)) as sock:
        answer = read_response(sock)
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "larger than the limit" in answer


@pytest.mark.parametrize(("token", "status"), [(None, "401"), ("wrong", "403"), (TOKEN, "413")])
def test_expect_100_continue_is_answered_without_asking_for_the_body(live, token, status):
    host, port, _ = live
    with send_head(host, port, upload_head(port, TWENTY_MB, token=token, expect=True)) as sock:
        answer = read_response(sock)
    assert answer.startswith(f"HTTP/1.1 {status}"), answer[:200]
    assert "100 Continue" not in answer


def test_expect_100_continue_within_the_limits_gets_continue_then_the_upload_is_stored(live):
    host, port, settings = live
    text = b"# Heat pumps in Lahti\n\nLahti replaced coal heat with large heat pumps.\n"
    body = (b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"lahti.md\"\r\n"
            b"Content-Type: text/markdown\r\n\r\n" + text + b"\r\n--xyz--\r\n")
    with send_head(host, port, upload_head(port, len(body), token=TOKEN, expect=True)) as sock:
        first = read_response(sock, timeout=5)
        assert first.startswith("HTTP/1.1 100 Continue"), first[:200]
        sock.sendall(body)
        answer = read_response(sock, timeout=10)
    assert answer.startswith("HTTP/1.1 201"), answer[:300]
    assert (settings.source_dir / "uploads" / "lahti.md").read_bytes() == text


def test_a_chunked_body_is_cut_off_at_the_cap(live):
    host, port, settings = live
    head = "\n".join([
        "POST /admin/resources HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Authorization: Bearer {TOKEN}",
        "Content-Type: multipart/form-data; boundary=xyz", "Transfer-Encoding: chunked",
    ]) + "\n"
    part = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.md\"\r\n\r\n"
    chunk = b"x" * 65_536
    with send_head(host, port, head) as sock:
        sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        sent = len(part)
        answer = ""
        try:
            while sent < UPLOAD_LIMIT * 100 and not answer:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
                sock.settimeout(0.01)
                try:
                    answer = sock.recv(65536).decode("latin-1")
                except TimeoutError:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = answer or read_response(sock)
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert sent < UPLOAD_LIMIT + 1_000_000 + 4 * len(chunk)  # refused near the cap, not at the end of the stream
    assert not (settings.source_dir / "uploads" / "big.md").exists()


def test_any_route_refuses_a_body_over_the_request_cap_at_once(live):
    host, port, _ = live
    head = "\n".join(["POST /twinning HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json",
                      f"Content-Length: {REQUEST_LIMIT + 1}"]) + "\n"
    with send_head(host, port, head) as sock:
        answer = read_response(sock)
    assert answer.startswith("HTTP/1.1 413") and f"limit of {REQUEST_LIMIT} bytes" in answer
