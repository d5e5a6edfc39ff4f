"""Serve the Flask (WSGI) application from granian's RSGI interface.

Why a bridge and not granian's own WSGI interface (ADR 0015): a WSGI server hands the
application a body stream that it reads *while holding a worker thread*, so a client that
announces 1,000 bytes and sends one holds that thread until it goes away; a handful of such
clients stop the service. Here the body is read on the event loop, where a waiting client
costs a coroutine, under a deadline and a size limit that hold for chunked bodies too. Only a
complete request reaches the application. Request heads are read by granian (Rust) under its
own header timeout before we see them.

Where the application runs (``dispatch``):

* ``inline``: on the event loop thread. Cheapest (no thread hand-off per request), right when
  a request's blocking I/O is short and local (SQLite, PKCS#12 files). The audit record is the
  exception: the application registers its pending record through
  ``environ["keymanager.defer_until_durable"]`` and we wait for it *here*, asynchronously, so
  that records of concurrent requests are made durable together (group commit) and the loop
  keeps serving meanwhile. The response is sent only once its record is durable; if it cannot
  be, the audit error envelope is sent instead (fail closed).
* ``threads``: in a small thread pool, for PostgreSQL and HSM deployments, where every request
  waits for the network. The application then waits for its audit record itself.

Routes whose views are marked ``blocking`` (PBKDF2, Argon2: tens to hundreds of milliseconds of
CPU) always run in the pool, so they never stall the loop.
"""
from __future__ import annotations

import asyncio
import io
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import Any

from domain.errors import Errors

from ..http.access_log import log_unrouted
from ..http.audit import AUDIT_ERROR_KEY, DEFER_KEY
from ..http.envelope import error_body

JSON_HEADERS = [("content-type", "application/json")]
BAD_REQUEST = Errors.INVALID_REQUEST.value.code
#: Content-Length at or under which the body is taken in one read instead of streamed.
ONE_READ_LIMIT = 1 << 20

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Refused(Exception):
    """The request cannot reach the application; answer ``status`` with the MOSIP envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class WsgiBridge:
    def __init__(
        self,
        app: WsgiApp,
        *,
        max_body_bytes: int,
        body_timeout_seconds: float,
        audit_timeout_seconds: float,
        inline: bool,
        thread_paths: frozenset[str] = frozenset(),
        threads: int = 4,
        audit_writer: Any = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout_seconds
        self.audit_timeout = audit_timeout_seconds
        self.inline = inline
        self.thread_paths = thread_paths
        self.pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="keymanager-request")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.audit_writer = audit_writer

    # -- RSGI --------------------------------------------------------------------------------

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.loop_thread = threading.get_ident()
        if self.inline and self.audit_writer is not None:
            # Inline requests submit audit records on the loop: commit them there too, once the
            # requests that are ready have run (one batch), without a thread to hand over to.
            # Views run in the pool (``thread_paths``) submit from their thread: wake the loop safely.
            writer, loop_thread = self.audit_writer, self.loop_thread

            def schedule_flush(delay: float) -> None:
                if threading.get_ident() != loop_thread:
                    loop.call_soon_threadsafe(writer.flush)
                elif delay:
                    loop.call_later(delay, writer.flush)
                else:
                    loop.call_soon(writer.flush)

            writer.drive(schedule_flush)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        started = perf_counter()
        try:
            body = await self._read_body(scope, proto)
        except _Refused as refused:
            rid = log_unrouted(scope.method, scope.headers.get("x-request-id"), refused.status, started)
            # The body was not (fully) read: the connection cannot be reused.
            proto.response_bytes(
                refused.status, [*JSON_HEADERS, ("connection", "close"), ("x-request-id", rid)],
                error_body([(BAD_REQUEST, refused.message)])  # the application never saw it: nothing to echo,
            )
            return
        environ = self._environ(scope, body)
        if self.inline and scope.path not in self.thread_paths:
            pending: list[tuple[Any, Any]] = []
            environ[DEFER_KEY] = lambda ticket, failure: pending.append((ticket, failure))
            status, headers, payload = _call(self.app, environ)
            if pending:
                status, headers, payload = await self._after_durable(pending, environ, (status, headers, payload))
        else:
            loop = self.loop or asyncio.get_running_loop()
            status, headers, payload = await loop.run_in_executor(self.pool, _call, self.app, environ)
        proto.response_bytes(status, headers, payload)

    __call__ = __rsgi__

    # -- the body ------------------------------------------------------------------------------

    async def _read_body(self, scope: Any, proto: Any) -> bytes:
        headers = scope.headers
        length_text = headers.get("content-length")
        chunked = "chunked" in (headers.get("transfer-encoding") or "").lower()
        if length_text is None and not chunked:
            return b""
        length = None
        if length_text is not None and not chunked:
            if not length_text.strip().isdigit():
                raise _Refused(400, "Invalid request: malformed Content-Length")
            length = int(length_text)
            if length > self.max_body_bytes:
                raise _Refused(413, self._too_large())
            if length == 0:
                return b""
        try:
            async with asyncio.timeout(self.body_timeout):
                if length is not None and length <= ONE_READ_LIMIT:
                    return await proto()  # the server stops at Content-Length
                return await self._stream(proto)
        except TimeoutError:
            raise _Refused(408, "Invalid request: the body did not arrive in time") from None
        except (ConnectionError, RuntimeError):  # the client went away mid-body
            raise _Refused(400, "Invalid request: the body is incomplete") from None

    async def _stream(self, proto: Any) -> bytes:
        parts, size = [], 0
        async for chunk in proto:
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _Refused(413, self._too_large())
            parts.append(chunk)
        return b"".join(parts)

    def _too_large(self) -> str:
        return f"Invalid request: the body exceeds the limit of {self.max_body_bytes} bytes"

    # -- WSGI ----------------------------------------------------------------------------------

    @staticmethod
    def _environ(scope: Any, body: bytes) -> dict[str, Any]:
        server_host, _, server_port = scope.server.rpartition(":")
        client_host, _, client_port = scope.client.rpartition(":")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope.method,
            "SCRIPT_NAME": "",
            # WSGI wants the path as latin-1 text of its bytes (PEP 3333).
            "PATH_INFO": _wsgi_text(scope.path),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_host.strip("[]") or "localhost",
            "SERVER_PORT": server_port or "80",
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client_host.strip("[]"),
            "REMOTE_PORT": client_port,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in scope.headers.items():
            if name == "content-length" or name == "transfer-encoding":
                continue  # the body is complete and its length is the one above
            if name == "content-type":
                environ["CONTENT_TYPE"] = value
                continue
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    async def _after_durable(
        self, pending: list[tuple[Any, Any]], environ: dict[str, Any], computed: tuple[int, list, bytes]
    ) -> tuple[int, list, bytes]:
        """The computed response once every record it depends on is durable, else the failure."""
        loop = self.loop or asyncio.get_running_loop()
        for ticket, failure in pending:
            done: asyncio.Future[BaseException | None] = loop.create_future()

            def finished(ticket: Any, done: asyncio.Future = done) -> None:
                if threading.get_ident() == self.loop_thread:
                    _settle(done, ticket.exception())  # a driven writer: already on the loop
                else:
                    loop.call_soon_threadsafe(_settle, done, ticket.exception())

            ticket.add_done_callback(finished)
            try:
                async with asyncio.timeout(self.audit_timeout):
                    error = await done
            except TimeoutError:
                error = TimeoutError()
            if error is not None:
                environ[AUDIT_ERROR_KEY] = error  # the failure app logs and counts it
                return _call(failure, environ)
        return computed


def _settle(future: asyncio.Future, error: BaseException | None) -> None:
    if not future.done():
        future.set_result(error)


def _call(app: WsgiApp, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started[:] = [int(status[:3]), headers]
        return _no_write

    result = app(environ, start_response)
    try:
        payload = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started[0], started[1], payload


def _no_write(data: bytes) -> None:  # the legacy write() callable; Flask never uses it
    raise RuntimeError("write() is not supported")


def _wsgi_text(path: str) -> str:
    try:
        return path.encode("utf-8").decode("latin-1")
    except UnicodeEncodeError:  # lone surrogates: pass them on as they are; routing refuses them
        return path
