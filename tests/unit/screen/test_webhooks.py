"""Webhooks reach a real local receiver, signed, retried; unsafe targets are refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from fundtrail.errors import InvalidInputError
from fundtrail.netguard import check_outbound_url
from fundtrail.screen.webhooks import SIGNATURE_HEADER, deliver, verify


class Receiver:
    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.calls: list[tuple[bytes, str]] = []


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[tuple[str, Receiver]]:
    state = Receiver(getattr(request, "param", 0))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.calls.append((body, self.headers[SIGNATURE_HEADER]))
            code = 503 if len(state.calls) <= state.fail_first else 204
            self.send_response(code)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", state
    server.shutdown()


def test_delivery_is_signed_with_hmac_over_the_exact_body(receiver) -> None:
    url, state = receiver
    result = deliver(url, {"alert": 1, "risk": "severe"}, "s3cret", allow_private=True)
    assert result.ok and result.attempts == 1
    body, signature = state.calls[0]
    assert json.loads(body) == {"alert": 1, "risk": "severe"}
    assert verify(body, "s3cret", signature)
    assert not verify(body, "other", signature)


@pytest.mark.parametrize("receiver", [2], indirect=True)
def test_transient_failures_are_retried_with_backoff(receiver) -> None:
    url, state = receiver
    result = deliver(url, {"alert": 2}, "k", backoff=0.01, allow_private=True)
    assert result.ok
    assert result.attempts == 3
    assert len(state.calls) == 3


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("file:///etc/passwd", "http(s)"),
        ("ftp://example.org/x", "http(s)"),
        ("http://127.0.0.1:8000/x", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://10.1.2.3/x", "private"),
        ("http://[::1]/x", "loopback"),
        ("http://localhost/x", "loopback"),
    ],
)
def test_unsafe_targets_are_refused_unless_allowed(url: str, needle: str) -> None:
    with pytest.raises(InvalidInputError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        check_outbound_url(url)


def test_loopback_is_refused_by_deliver_itself(receiver) -> None:
    url, state = receiver
    with pytest.raises(InvalidInputError):
        deliver(url, {"x": 1}, "k")
    assert state.calls == []
