"""A fault-injecting HTTP proxy on 127.0.0.1 in front of the moto server, for the S3 fault tests.

Every request is named by its S3 operation as AWS names it ("PutObject", "UploadPart", "ListObjectsV2", ...).
A `Fault` selects one operation and fails it by count (`times=N`) or persistently (`times=None`), after letting
`skip` requests through, in one of four ways:

- `status`: answer an S3 error document (503 SlowDown by default) without forwarding;
- `reset`: reset the TCP connection (RST) without forwarding;
- `drop`: close the connection without an answer, without forwarding;
- `lose`: forward the request to moto (the store acts), then reset the connection: the response is lost.

Loops are bounded: the proxy injects at most `limit` faults in all, then forwards everything, so a client that
retried forever would still finish. `injected` counts the faults per operation, `counts` the requests seen.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

LOOPBACK = "127.0.0.1"
HOP_BY_HOP = {"connection", "expect", "keep-alive", "transfer-encoding"}


@dataclass
class Fault:
    """Fail `times` requests of `operation` (None: every one) after letting `skip` through."""

    operation: str
    times: int | None = 1
    kind: str = "status"  # status | reset | drop | lose
    status: int = 503
    code: str = "SlowDown"
    skip: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("status", "reset", "drop", "lose"):
            raise ValueError(f"unknown fault kind {self.kind!r}")


def s3_operation(method: str, path: str, query: str, headers: Any) -> str:
    """The S3 API operation of a path-style request (enough of S3's routing for the operations we use)."""
    params = parse_qs(query, keep_blank_values=True)
    object_level = "/" in path.strip("/")
    copy = bool(headers.get("x-amz-copy-source"))
    if method == "PUT":
        if "partNumber" in params:
            return "UploadPartCopy" if copy else "UploadPart"
        if not object_level:
            return "CreateBucket"
        return "CopyObject" if copy else "PutObject"
    if method == "POST":
        if "uploads" in params:
            return "CreateMultipartUpload"
        if "uploadId" in params:
            return "CompleteMultipartUpload"
        if "delete" in params:
            return "DeleteObjects"
        return "PostObject"
    if method == "DELETE":
        if "uploadId" in params:
            return "AbortMultipartUpload"
        return "DeleteObject" if object_level else "DeleteBucket"
    if method == "HEAD":
        return "HeadObject" if object_level else "HeadBucket"
    if method == "GET":
        if object_level:
            return "ListParts" if "uploadId" in params else "GetObject"
        if "uploads" in params:
            return "ListMultipartUploads"
        return "ListObjectsV2" if params.get("list-type") == ["2"] else "ListObjects"
    return method


class FaultProxy:
    """The proxy: `add(Fault(...))`, point an S3Config at `endpoint_url` (see `config`), read `injected`."""

    def __init__(self, upstream_port: int, limit: int = 1000, server: Any = None) -> None:
        self.upstream_port = upstream_port
        self.upstream = server  # the S3Server behind, for `config`
        self.limit = limit
        self.faults: list[Fault] = []
        self.counts: dict[str, int] = {}
        self.injected: dict[str, int] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((LOOPBACK, 0), self._handler_class())
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.endpoint_url = f"http://{LOOPBACK}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="s3-fault-proxy", daemon=True)
        self._thread.start()

    # -- control -------------------------------------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def config(self, **overrides: Any) -> Any:
        """An S3Config for the server behind the proxy, pointing at the proxy."""
        return self.upstream.config(endpoint_url=self.endpoint_url, **overrides)

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    @property
    def total_injected(self) -> int:
        with self._lock:
            return sum(self.injected.values())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _select(self, operation: str) -> Fault | None:
        with self._lock:
            self.counts[operation] = self.counts.get(operation, 0) + 1
            if sum(self.injected.values()) >= self.limit:
                return None
            fault = next((f for f in self.faults if f.operation == operation), None)
            if fault is None:
                return None
            if fault.skip > 0:
                fault.skip -= 1
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            self.injected[operation] = self.injected.get(operation, 0) + 1
            return fault

    # -- the HTTP side -------------------------------------------------------------------------------------

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, bytes]:
        connection = http.client.HTTPConnection(LOOPBACK, self.upstream_port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
                pass

            def _reset(self) -> None:
                # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

            def _body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    # HTTP/1.1 chunked upload (the AWS C++ SDK under pyarrow's S3 file system sends these): read
                    # every chunk, so the body is forwarded whole and the connection stays in step.
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                body = self._body()
                path, _, query = self.path.partition("?")
                operation = s3_operation(self.command, path, query, self.headers)
                fault = proxy._select(operation)
                headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
                if fault is not None and fault.kind == "lose":
                    proxy._forward(self.command, self.path, headers, body)
                    self._reset()
                    return
                if fault is not None and fault.kind == "reset":
                    self._reset()
                    return
                if fault is not None and fault.kind == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault is not None:
                    payload = (
                        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{fault.code}</Code>'
                        "<Message>injected by the test proxy</Message></Error>"
                    ).encode()
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                status, response_headers, data = proxy._forward(self.command, self.path, headers, body)
                self.send_response(status)
                length = str(len(data))
                for name, value in response_headers:
                    if name.lower() == "content-length" and self.command == "HEAD":
                        length = value  # a HEAD answer has no body but tells the object's length
                    elif name.lower() not in HOP_BY_HOP | {"content-length", "server", "date"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", length)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        return Handler
