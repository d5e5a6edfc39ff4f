"""Spring Boot actuator's health and info, at the reference's paths (issue 13): what Kubernetes probes call.

* ``/actuator/health``: ``{"status": "UP"|"DOWN", "components": {...}}``, HTTP 200 or 503: the store (a read
  through a unit of work) and the keystore (its own health check) answer.
* ``/actuator/health/liveness``: the process serves (always UP while it can answer at all).
* ``/actuator/health/readiness``: store and keystore answer and the key ceremony is done (ROOT exists).
* ``/actuator/info``: name and version.

``/actuator/health`` also names the ZK public keys (``zkPublicKeys``) zkEncrypt is missing: information, always UP.

Unauthenticated, like actuator behind a cluster network (role ``PUBLIC``); never audited. Each check runs in a small
pool with a deadline (``CHECK_TIMEOUT_SECONDS``): a slow database or HSM makes the probe say DOWN in time, it does
not hang it. The views are declared ``blocking``, so the server runs them off its event loop. Details never carry
exception texts, paths or key material: only a component's state and a fixed phrase.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from importlib import metadata
from typing import Any

from flask import Response, current_app, jsonify

from domain.keys import ROOT, KeyTuple

from .routes import PUBLIC, Controller

api = Controller("actuator", tag="actuator")
blueprint = api.blueprint
log = logging.getLogger("keymanager.health")

CHECK_TIMEOUT_SECONDS = 2.0
UP, DOWN = "UP", "DOWN"
#: At most this many checks at once per process: a hung backend cannot make probes pile up threads.
_checks = ThreadPoolExecutor(2, thread_name_prefix="keymanager-health")


def _bounded(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return _checks.submit(check).result(timeout=CHECK_TIMEOUT_SECONDS)
    except FutureTimeout:
        return {"status": DOWN, "details": {"error": f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"}}
    except Exception as error:  # noqa: BLE001 - a failed check is DOWN; its text may hold internals
        return {"status": DOWN, "details": {"error": type(error).__name__}}


def _store() -> dict[str, Any]:
    container = current_app.extensions["container"]
    store = current_app.config["KEYMANAGER_STORE"]

    def check() -> dict[str, Any]:
        with container.uow_factory()() as uow:
            uow.keys.policy(ROOT)  # one read: the store answers
        return {"status": UP, "details": {"store": store}}

    return _bounded(check)


def _keystore() -> dict[str, Any]:
    container = current_app.extensions["container"]
    kind = current_app.config["KEYMANAGER_KEYSTORE"]

    def check() -> dict[str, Any]:
        health = container.keystore().health()
        if not health.ok:  # the detail names directories or token labels: the log's, not an open endpoint's
            log.warning("health: keystore DOWN (%s)", health.detail)
        return {"status": UP if health.ok else DOWN,
                "details": {"keystore": kind, "state": "answers" if health.ok else "not available"}}

    return _bounded(check)


def _ceremony() -> dict[str, Any]:
    container = current_app.extensions["container"]

    def check() -> dict[str, Any]:
        with container.uow_factory()() as uow:
            done = bool(uow.keys.aliases_for(KeyTuple(ROOT, "")))
        return {"status": UP if done else DOWN,
                "details": {"root": "present" if done else "missing: run keymanager init"}}

    return _bounded(check)


def _zk_public_keys() -> dict[str, Any]:
    """Information, never DOWN: zkEncrypt needs the decrypting partner's certificate (IDA uploads it)."""
    container = current_app.extensions["container"]
    result = _bounded(lambda: {"status": UP, "details": {"missing": container.zk_encrypt().missing_public_keys()}})
    if result["status"] != UP:
        result = {"status": UP, "details": {"missing": "unknown (the store did not answer)"}}
    missing = result["details"]["missing"]
    if missing and isinstance(missing, list):
        result["details"]["hint"] = (
            "zkEncrypt answers KER-ZKC-002 until each is uploaded with uploadOtherDomainCertificate"
        )
    return result


def _answer(components: dict[str, dict[str, Any]]) -> Response:
    status = UP if all(c["status"] == UP for c in components.values()) else DOWN
    response = jsonify({"status": status, "components": components})
    response.status_code = 200 if status == UP else 503
    response.headers["Cache-Control"] = "no-store"
    return response


_COMPONENT = {"type": "object", "required": ["status"], "properties": {
    "status": {"type": "string", "enum": [UP, DOWN]}, "details": {"type": "object"}}}
_HEALTH = {"application/json": {"type": "object", "required": ["status"], "properties": {
    "status": {"type": "string", "enum": [UP, DOWN]},
    "components": {"type": "object", "additionalProperties": _COMPONENT}}}}


@api.get("/actuator/health", summary="UP (200) when the store and the keystore answer, else DOWN (503)",
         role=PUBLIC, raw=_HEALTH, raw_statuses=(200, 503), blocking=True)
def health() -> Response:
    return _answer({"db": _store(), "keystore": _keystore(), "zkPublicKeys": _zk_public_keys()})


@api.get("/actuator/health/liveness", summary="The process serves", role=PUBLIC, raw=_HEALTH)
def liveness() -> Response:
    return _answer({"livenessState": {"status": UP}})


@api.get("/actuator/health/readiness", summary="Store and keystore answer and the key ceremony is done",
         role=PUBLIC, raw=_HEALTH, raw_statuses=(200, 503), blocking=True)
def readiness() -> Response:
    return _answer({"db": _store(), "keystore": _keystore(), "keyCeremony": _ceremony()})


@api.get("/actuator/info", summary="Name and version", role=PUBLIC, raw={"application/json": {"type": "object"}})
def info() -> Response:
    try:
        version = metadata.version("keymanager")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return jsonify({"app": {"name": "keymanager", "description": "MOSIP-compatible key manager"},
                    "build": {"version": version}})
