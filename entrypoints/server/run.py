"""``keymanager serve``: granian worker processes, each serving the Flask application through the bridge.

Granian reads and parses request heads in Rust (hyper) and closes a connection whose head has
not arrived within ``KEYMANAGER_HEADER_TIMEOUT_SECONDS``; the bridge reads bodies (deadline,
size limit) and runs the application. Workers are forked by granian and build their own
application (adapters are made after the fork: database connections, HSM sessions). A worker
that dies is replaced.
"""
from __future__ import annotations

from typing import Any

from ..http.blocking import blocking_paths
from ..settings import Settings
from .bridge import WsgiBridge
from .rotation import start_rotation

#: Stores and keystores whose calls are short and local: requests can run on the event loop.
LOCAL_STORES = ("sqlite", "memory")
LOCAL_KEYSTORES = ("pkcs12", "memory")


def runs_inline(settings: Settings) -> bool:
    if settings.server_dispatch != "auto":
        return settings.server_dispatch == "inline"
    return settings.store in LOCAL_STORES and settings.keystore in LOCAL_KEYSTORES


def build_bridge(settings: Settings) -> WsgiBridge:
    from ..http.app import create_app
    from ..log_format import configure_logging

    configure_logging(settings.log_format)  # in the worker: whatever the server set up, our format holds

    app = create_app(settings)
    start_rotation(settings.rotation_interval_seconds, app.container.rotate_due_keys().execute)  # type: ignore[attr-defined]
    return WsgiBridge(
        app,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.body_timeout_seconds,
        audit_timeout_seconds=settings.db_timeout_seconds,
        inline=runs_inline(settings),
        thread_paths=blocking_paths(app),
        threads=settings.server_threads,
        audit_writer=app.container.audit_writer(),  # type: ignore[attr-defined]
    )


def _granian_json_logs() -> dict[str, Any]:
    """granian's own lines (start, workers) in our JSON format too (its dictConfig, formatters replaced)."""
    json_formatter = {"()": "entrypoints.log_format.JsonFormatter"}
    return {"formatters": {"generic": json_formatter, "access": json_formatter}}


def serve(settings: Settings) -> None:
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.server import Server

    server = Server(
        "entrypoints.server.run:build_bridge",  # a name for granian's logs; the loader below builds it
        address=settings.host,
        port=settings.port,
        interface=Interfaces.RSGI,
        workers=settings.workers,
        loop=Loops.asyncio,
        http=HTTPModes.http1,
        websockets=False,
        backlog=2048,
        http1_settings=HTTP1Settings(header_read_timeout=int(settings.header_timeout_seconds * 1000)),
        log_access=False,  # the application logs each request itself, without path parameters
        respawn_failed_workers=True,
        respawn_interval=1.0,
        workers_kill_timeout=30,
        log_dictconfig=_granian_json_logs() if settings.log_format == "json" else None,
    )

    def load(*_: Any) -> WsgiBridge:  # runs in each worker, after the fork
        return build_bridge(settings)

    server.serve(target_loader=load, wrap_loader=False)
