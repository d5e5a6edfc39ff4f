"""Console sessions (issue 17): a server-side session behind a random id in an HttpOnly cookie.

The session holds the access token the console's sign-in obtained (console_auth.py), its expiry and a CSRF
token. The API's authentication (auth.py) accepts the cookie instead of a bearer header: the token it holds is
verified on every request exactly as a bearer token is (signature, issuer, audience, expiry), so roles and the
audit subject come from the token as for any caller, and an expired token ends the session. A request that
changes something (any method but GET, HEAD and OPTIONS) with the cookie must carry ``X-CSRF-Token`` equal to the
session's token (synchroniser token); the cookie is also ``SameSite=Strict``.

Where sessions live: several worker processes (and instances sharing a data directory) must all find a session,
so sessions are files under ``<data dir>/console-sessions`` (mode 0600, in a 0700 directory), one per session,
named by the SHA-256 of the session id (the name is not the credential); with ``KEYMANAGER_STORE=memory``, in the
process. Instances on different hosts need sticky sessions (or a shared data directory).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from flask import Request, g

from ..settings import Settings

log = logging.getLogger("keymanager.auth")

COOKIE = "km_console_session"
COOKIE_PATH = "/v1/keymanager"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: A sign-in that has not come back by then is forgotten.
LOGIN_SECONDS = 600
#: Longest a session lives, whatever the token's expiry says.
MAX_SESSION_SECONDS = 12 * 3600
_ID_BYTES = 32


@dataclass(frozen=True)
class Entry:
    """One stored item: a session (``kind`` "session") or a sign-in under way ("login")."""

    kind: str
    expires_at: float  # epoch seconds
    access_token: str = ""
    csrf_token: str = ""
    user: str | None = None
    code_verifier: str = ""
    nonce: str = ""


class SessionStore(Protocol):
    def put(self, key: str, entry: Entry) -> None: ...

    def get(self, key: str) -> Entry | None:
        """The live entry under ``key`` (an expired one is removed and None answered)."""

    def delete(self, key: str) -> None: ...


def _name(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class MemorySessionStore:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def put(self, key: str, entry: Entry) -> None:
        with self._lock:
            now = self.clock()
            self._entries = {name: e for name, e in self._entries.items() if e.expires_at > now}
            self._entries[_name(key)] = entry

    def get(self, key: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(_name(key))
            if entry is not None and entry.expires_at <= self.clock():
                del self._entries[_name(key)]
                return None
            return entry

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(_name(key), None)


class FileSessionStore:
    """One file per entry, written atomically (temporary file, then rename)."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self.clock = clock

    def _path(self, key: str) -> Path:
        return self.directory / _name(key)

    def put(self, key: str, entry: Entry) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._purge()
        path = self._path(key)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(asdict(entry), file)
        os.replace(temporary, path)

    def get(self, key: str) -> Entry | None:
        path = self._path(key)
        try:
            entry = Entry(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        if entry.expires_at <= self.clock():
            self._remove(path)
            return None
        return entry

    def delete(self, key: str) -> None:
        self._remove(self._path(key))

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass

    def _purge(self) -> None:
        """Expired entries go when a new one is written (a sign-in is rare: the cost is bounded)."""
        now = self.clock()
        for path in self.directory.iterdir():
            if path.name.startswith("."):
                continue
            try:
                expired = json.loads(path.read_text(encoding="utf-8")).get("expires_at", 0) <= now
            except (OSError, ValueError, AttributeError):
                expired = True
            if expired:
                self._remove(path)


def build_session_store(settings: Settings) -> SessionStore:
    if settings.store == "memory":
        return MemorySessionStore()
    return FileSessionStore(settings.data_dir / "console-sessions")


def new_secret() -> str:
    return secrets.token_urlsafe(_ID_BYTES)


@dataclass(frozen=True)
class SessionCredentials:
    """What the API's authentication takes from a request that came with the console's cookie."""

    session_id: str
    entry: Entry


class SessionRefused(Exception):
    """The cookie names no live session (401), or the CSRF token is missing or wrong (403)."""

    def __init__(self, reason: str, *, forbidden: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden


def session_token(incoming: Request, store: SessionStore) -> str | None:
    """The access token of the console session the request's cookie names, after the CSRF check;
    None when the request has no session cookie. Remembers the session on ``g`` for admin/api/session."""
    session_id = incoming.cookies.get(COOKIE)
    if not session_id:
        return None
    entry = store.get(f"session:{session_id}")
    if entry is None or entry.kind != "session":
        raise SessionRefused("unknown or expired console session")
    if incoming.method not in SAFE_METHODS:
        sent = incoming.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode("utf-8", "replace"), entry.csrf_token.encode("utf-8")):
            raise SessionRefused("CSRF token missing or wrong", forbidden=True)
    g.console_session = SessionCredentials(session_id, entry)
    return entry.access_token


def end_session(store: SessionStore, session_id: str) -> None:
    store.delete(f"session:{session_id}")
