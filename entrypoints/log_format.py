"""How the service's logs look: ``KEYMANAGER_LOG_FORMAT=text`` (the default) or ``json`` (issue 13).

JSON: one object a line — ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``message``, and
when the line belongs to a request, ``request_id``; the access line adds ``method``, ``route`` (the template,
never the concrete path), ``status`` and ``latency_ms``. A traceback stays inside its record (``exception``),
so a log shipper never splits it. The messages are the same as in text form: they never hold personal data or
key material (see README "Logs").
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

#: Fields the access log passes as ``extra`` (entrypoints/http/access_log.py), copied into JSON as they are.
ACCESS_FIELDS = ("method", "route", "status", "latency_ms")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            entry["request_id"] = request_id
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record logged while a request is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            from .http.access_log import current_request_id  # the web layer is loaded by then

            record.request_id = current_request_id()
        return True


def configure_logging(log_format: str) -> None:
    """Idempotent: the CLI calls it, and so does each server worker after it starts."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format=TEXT_FORMAT)
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
        if log_format == "json" and not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
