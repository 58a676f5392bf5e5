"""A stub S3 endpoint that answers chosen S3 errors, for conditions a real server cannot make.

:class:`FaultyS3` listens on loopback and passes every request through, untouched (its
signature included: the ``Host`` header is kept), to a real S3 server such as
:class:`~devtools.seaweedfs.SeaweedFS`, except while a fault is injected: then matching
requests are answered with that S3 error (an XML ``<Error>`` body, as S3 writes it; none for
HEAD) and never reach the real server. A test points bookstore at :attr:`FaultyS3.endpoint_url`
and sees S3 throttle it, or refuse its clock, then recover, with everything else real.

Inject only what a real server cannot be made to do (``SlowDown``,
``RequestTimeTooSkewed``); SeaweedFS itself can be stopped, paused, have its bucket deleted,
its versioning suspended or its keys changed. Without a fault it is a counting pass-through
(:attr:`FaultyS3.forwarded`): how many requests of each method reached S3.
"""

from __future__ import annotations

import http.client
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Hop-by-hop headers, and Expect (this server already answered it), are not passed on.
_NOT_FORWARDED = {"connection", "keep-alive", "expect", "transfer-encoding", "proxy-connection"}


@dataclass
class Fault:
    """An S3 error answered to matching requests.

    Attributes
    ----------
    code, status, message
        The S3 error code, HTTP status and message of the answer.
    methods
        The HTTP methods it answers (others pass through).
    remaining
        How many more requests it answers (None: until cleared).
    """

    code: str
    status: int
    message: str
    methods: frozenset[str]
    remaining: int | None = None


class FaultyS3:
    """A pass-through S3 endpoint in front of ``upstream``, with injectable S3 errors.

    Parameters
    ----------
    upstream
        The real S3 endpoint URL (``http://host:port``).
    """

    def __init__(self, upstream: str, host: str = "127.0.0.1") -> None:
        target = urlsplit(upstream)
        self.upstream_host = target.hostname or "127.0.0.1"
        self.upstream_port = target.port or 80
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        #: Requests answered with an injected error, by error code.
        self.answered: dict[str, int] = {}
        #: Requests passed through to the real server, by method.
        self.forwarded: dict[str, int] = {}
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def inject(
        self,
        code: str,
        status: int,
        message: str = "",
        *,
        methods: tuple[str, ...] = ("GET", "PUT", "POST", "HEAD", "DELETE"),
        times: int | None = None,
    ) -> None:
        """Answer ``code`` (HTTP ``status``) to the next ``times`` requests of ``methods``
        (all of them until :meth:`clear` when ``times`` is None)."""
        with self._lock:
            self._fault = Fault(code, status, message or code, frozenset(methods), times)

    def clear(self) -> None:
        """Pass every request through again."""
        with self._lock:
            self._fault = None

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            fault = self._fault
            if fault is None or method not in fault.methods:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._fault = None
            self.answered[fault.code] = self.answered.get(fault.code, 0) + 1
            return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
                pass  # quiet: tests read their own output

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _serve(self) -> None:
                body = self._body()
                fault = stub._take_fault(self.command)
                if fault is not None:
                    self._answer_error(fault)
                    return
                with stub._lock:
                    stub.forwarded[self.command] = stub.forwarded.get(self.command, 0) + 1
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED}
                connection = http.client.HTTPConnection(stub.upstream_host, stub.upstream_port, timeout=120)
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    payload = answer.read()
                except OSError:
                    self.send_error(502, "the real S3 server behind the stub did not answer")
                    return
                finally:
                    connection.close()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in _NOT_FORWARDED and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _answer_error(self, fault: Fault) -> None:
                request_id = uuid.uuid4().hex[:16].upper()
                xml = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message>"
                    f"<RequestId>{request_id}</RequestId></Error>"
                ).encode()
                self.send_response(fault.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("x-amz-request-id", request_id)
                self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(xml)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(xml)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _serve

        return Handler

    def start(self) -> FaultyS3:
        self._thread = threading.Thread(target=self._server.serve_forever, name="faulty-s3", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultyS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
