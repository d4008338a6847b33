"""A real SMS gateway on 127.0.0.1 for tests and benchmarks: it records every request and fails
on demand, the way a provider does.

Answers in the eSMS JSON shape (``{"CodeResult": "100", "SMSID": ...}``) on ``/esms`` and in the
Twilio shape (HTTP 201 ``{"sid": ...}``, errors ``{"code", "message"}``) on ``/twilio``. Planned
failures are consumed one per request: ``plan("503")`` answers HTTP 503, ``plan("code:101")``
a refusal with that provider code, ``plan("hang")`` answers nothing for ``hang_seconds``,
``plan("drop")`` closes the connection without an answer.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx


class Gateway:
    def __init__(self):
        self.requests: list[dict] = []
        self.planned: collections.deque[str] = collections.deque()
        self.hang_seconds = 2.0
        self.record_bodies = True
        self.keep_requests = True  # False (benchmarks): only count, so memory stays flat
        self.clock = time.monotonic  # each request's arrival ("at"); a test may set virtual time
        self.count = 0
        self.first_at: float | None = None  # the first and the latest arrival (benchmarks: the rate)
        self.last_at: float | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def plan(self, *outcomes: str) -> None:
        self.planned.extend(outcomes)

    def next_outcome(self) -> tuple[str, float]:
        """The arrival of a request: counted, timed; returns (its outcome, when it came)."""
        with self._lock:
            self.count += 1
            self.last_at = self.clock()
            if self.first_at is None:
                self.first_at = self.last_at
            return (self.planned.popleft() if self.planned else "ok"), self.last_at

    def new_id(self) -> str:
        with self._lock:
            return f"gw-{next(self._ids)}"

    def deliver(self, request: dict, *, delivered: bool = True) -> httpx.Response:
        """Call the receipt URL the request carried, as the provider does (eSMS: GET with a query)."""
        url = request["json"]["CallbackUrl"] if request.get("json") else request["form"]["StatusCallback"]
        if request.get("json"):
            params = {"SMSID": request["provider_id"], "SendStatus": "5", "SendSuccess": "1" if delivered else "0",
                      "SendFailed": "0" if delivered else "1", "RequestId": request["json"]["RequestId"]}
            return httpx.get(url, params=params, timeout=10)
        data = {"MessageSid": request["provider_id"], "MessageStatus": "delivered" if delivered else "undelivered",
                "ErrorCode": "" if delivered else "30003"}
        return httpx.post(url, data=data, timeout=10)


def _handler(gateway: Gateway):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real gateways
        disable_nagle_algorithm = True  # headers and body in separate writes must not wait for a delayed ACK

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            self._handle()

        def do_POST(self):
            self._handle()

        def _answer(self, status: int, payload: dict, headers: dict | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            outcome, arrived = gateway.next_outcome()
            record = {"method": self.command, "path": path, "query": dict(parse_qsl(urlsplit(self.path).query)),
                      "headers": dict(self.headers.items()), "outcome": outcome, "at": arrived}
            if gateway.record_bodies:
                record["raw"] = raw
                if "json" in (self.headers.get("Content-Type") or ""):
                    record["json"] = json.loads(raw.decode())
                elif raw:
                    record["form"] = dict(parse_qsl(raw.decode()))
            if gateway.keep_requests:
                gateway.requests.append(record)
            twilio = path.startswith("/twilio")
            if outcome == "hang":
                time.sleep(gateway.hang_seconds)
                self.close_connection = True
                return
            if outcome == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if outcome.isdigit():
                self._answer(int(outcome), {"error": "busy"}, {"Retry-After": "0"} if outcome == "429" else None)
                return
            if outcome.startswith("code:"):
                code = outcome.split(":", 1)[1]
                if twilio:
                    self._answer(400, {"code": int(code), "message": "The 'To' number is not a valid phone number."})
                else:
                    self._answer(200, {"CodeResult": code, "ErrorMessage": "Sai ApiKey hoặc SecretKey"})
                return
            provider_id = gateway.new_id()
            record["provider_id"] = provider_id
            if twilio:
                self._answer(201, {"sid": provider_id, "status": "queued"})
            else:
                self._answer(200, {"CodeResult": "100", "SMSID": provider_id})

    return Handler


@contextlib.contextmanager
def running_gateway():
    gateway = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway))
    server.daemon_threads = True
    gateway.server = server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
