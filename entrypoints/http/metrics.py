"""Prometheus metrics at ``GET /v1/keymanager/actuator/prometheus`` (issue 13; README "Metrics").

Two kinds:
* **Per process**, recorded where they happen: ``http_server_requests_seconds`` (Spring's name and labels, so
  MOSIP's dashboards work: ``method``, ``uri`` = the route template, ``status``, ``outcome``), audit records
  made durable or withheld, decrypt key-cache hits and misses, database connections in use, slow-work requests
  in flight. Under several worker processes prometheus_client's multiprocess mode adds them up:
  ``keymanager serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at an empty directory before its workers start
  (another WSGI server: set it yourself, see prometheus_client's documentation).
* **From the store, at scrape time** (the same in every process and instance): seconds until each current key
  expires, seconds until its pre-expiry window opens (rotation due), and the number of keys ever created.

Counters of plain attributes (cache hits, pool in use) are copied into Prometheus at most once a second per
process, at the end of a request: the request path pays one clock read.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from flask import Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from domain.current_key import by_tuple, pre_expire_days

from .access_log import ENVIRON_KEY, logged_method, route_template
from .routes import Controller

api = Controller("metrics", tag="actuator")
blueprint = api.blueprint
ENDPOINT = "metrics.prometheus"
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ
SYNC_SECONDS = 1.0
disable_created_metrics()  # no *_created series: dashboards use the counters, not their birth times

HTTP = Histogram(
    "http_server_requests_seconds", "HTTP requests by route template, method, status and outcome",
    ["method", "uri", "status", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
AUDIT_RECORDS = Counter("keymanager_audit_records_total", "Audit records made durable")
AUDIT_FAILURES = Counter("keymanager_audit_failures_total", "Answers withheld: their audit record was not durable")
CACHE_HITS = Counter("keymanager_decrypt_key_cache_hits_total", "Decryption key lookups answered from the cache")
CACHE_MISSES = Counter("keymanager_decrypt_key_cache_misses_total", "Decryption key lookups not in the cache")
DB_POOL_IN_USE = Gauge("keymanager_db_pool_connections_in_use", "PostgreSQL connections handed out",
                       multiprocess_mode="livesum")
SLOW_WORK = Gauge("keymanager_slow_work_in_flight", "PIN/Argon2 requests computing or waiting",
                  multiprocess_mode="livesum")


def _outcome(status: int) -> str:
    outcomes = ("INFORMATIONAL", "SUCCESS", "REDIRECTION", "CLIENT_ERROR", "SERVER_ERROR")
    return outcomes[min(max(status // 100, 1), 5) - 1]


class _ProcessStats:
    """Copies this process's plain counters into Prometheus (deltas for counters, values for gauges)."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.next_sync = 0.0
        self.seen = {"hits": 0, "misses": 0, "audited": 0}

    def maybe_sync(self) -> None:
        now = time.monotonic()
        if now < self.next_sync:
            return
        self.next_sync = now + SYNC_SECONDS
        cache = self.container.key_cache()
        for name, counter, value in (("hits", CACHE_HITS, cache.hits), ("misses", CACHE_MISSES, cache.misses),
                                     ("audited", AUDIT_RECORDS, self.container.audit_writer().records)):
            if value > self.seen[name]:
                counter.inc(value - self.seen[name])
                self.seen[name] = value
        SLOW_WORK.set(self.container.slow_work().in_flight)
        if current_app.config["KEYMANAGER_STORE"] == "postgres":
            DB_POOL_IN_USE.set(self.container.postgres_database().pool.in_use)


class KeyCollector(Collector):
    """Key expiry figures read from the store when scraped."""

    def __init__(self, container: Any) -> None:
        self.container = container

    def collect(self) -> Iterator[GaugeMetricFamily]:
        expiry = GaugeMetricFamily("keymanager_key_expiry_seconds", "Seconds until the current key expires",
                                   labels=["application_id", "reference_id"])
        due = GaugeMetricFamily("keymanager_key_rotation_due_seconds",
                                "Seconds until the current key enters its pre-expiry window (negative: due)",
                                labels=["application_id", "reference_id"])
        created = GaugeMetricFamily(
            "keymanager_keys_in_store", "Keys in the store, every generation (none is ever deleted)"
        )
        now = self.container.clock().now()
        with self.container.uow_factory()() as uow:
            aliases = uow.keys.all_aliases()
            for key_tuple, rows in sorted(by_tuple(aliases).items(), key=lambda item: (item[0].app_id, item[0].ref_id)):
                newest = rows[-1]  # the key in use, or the one whose successor is due
                window = timedelta(days=pre_expire_days(key_tuple, uow.keys.policy))
                labels = [key_tuple.app_id, key_tuple.ref_id]
                expiry.add_metric(labels, (newest.expires_at - now).total_seconds())
                due.add_metric(labels, (newest.expires_at - window - now).total_seconds())
        created.add_metric([], len(aliases))
        yield from (expiry, due, created)


def observe(response: Response) -> Response:
    """after_request: the request's latency by route template (never the concrete path)."""
    state = request.environ.get(ENVIRON_KEY)
    if state is not None:  # the labels are the access line's: bounded, never caller text
        status = response.status_code
        HTTP.labels(logged_method(), route_template(), str(status), _outcome(status)).observe(
            time.perf_counter() - state[0])
    current_app.extensions["keymanager.metrics"].maybe_sync()
    return response


@api.get("/actuator/prometheus", summary="Prometheus metrics (open unless KEYMANAGER_METRICS_PUBLIC=false)",
         role="getactuatorprometheus", raw={"text/plain": {"type": "string"}}, blocking=True)
def prometheus() -> Response:
    current_app.extensions["keymanager.metrics"].maybe_sync()
    if MULTIPROCESS:  # every worker's files, live and dead
        process_metrics = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_metrics)
    else:
        process_metrics = REGISTRY
    keys = CollectorRegistry()
    keys.register(KeyCollector(current_app.extensions["container"]))
    # The text format is a list of families: two registries' outputs concatenate.
    return Response(generate_latest(process_metrics) + generate_latest(keys), content_type=CONTENT_TYPE_LATEST)


def install_metrics(app: Flask) -> None:
    app.extensions["keymanager.metrics"] = _ProcessStats(app.extensions["container"])
    app.after_request(observe)
