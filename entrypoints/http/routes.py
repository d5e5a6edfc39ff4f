"""Each endpoint declared once (ADR 0018): path, method, schemas, role key, audit operation, use case.

A blueprint module makes a ``Controller`` and declares its views with ``@controller.post(...)`` /
``.get`` / ``.put``. The declaration registers the Flask rule and records an ``Endpoint``; from the
list of endpoints the app derives who may call what (auth.py), which calls are audited (audit.py),
which views run off the event loop (blocking.py) and the OpenAPI document (openapi.py). Nothing
else names a path, a role key or an audit operation.

The view receives what its declaration asks for: the path variables, ``dto`` (the envelope's
``request`` object loaded with the request schema; a use-case command where the schema builds one
in ``post_load``), ``query`` (the query parameters loaded with the query schema) and ``use_case``
(resolved from the app's own container on each call, not from process-wide wiring).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, current_app, request
from marshmallow import Schema
from werkzeug.wrappers import Response as BaseResponse

from .envelope import request_body
from .roles import ROLE_TABLE
from .schemas import load_query, load_request

#: Role "key" of an endpoint anyone may call without a token (the probes, the API document).
PUBLIC = "<public>"
#: Role "key" of an endpoint any authenticated caller may call (the reference has no @PreAuthorize on it).
AUTHENTICATED = "<authenticated>"

EXTENSION = "keymanager.endpoints"
#: A view: Flask's Response or a redirect (Werkzeug's base class).
View = Callable[..., BaseResponse]


@dataclass(frozen=True)
class Endpoint:
    """Everything the service knows about one endpoint."""

    name: str  # Flask's endpoint name, "<blueprint>.<view>"
    method: str
    path: str  # the Flask rule below the API prefix, variables as <name>
    summary: str
    tag: str  # the reference's controller, grouping the OpenAPI document
    role: str  # a ROLE_TABLE key, AUTHENTICATED or PUBLIC
    audit: str | None = None  # the operation recorded in the audit trail; None: not audited
    request: type[Schema] | None = None  # the MOSIP request envelope's "request" object
    query: type[Schema] | None = None  # the query (or form) parameters
    response: type[Schema] | None = None  # the MOSIP response envelope's "response" object
    raw: Mapping[str, Any] | None = None  # a response that is no MOSIP envelope: {media type: JSON schema}
    raw_statuses: tuple[int, ...] = (200,)  # the statuses such a response comes with (health: 200 UP, 503 DOWN)
    use_case: str | None = None  # the container's provider passed to the view as ``use_case``
    blocking: bool = False  # computes for long (PBKDF2, Argon2): run off the server's event loop
    documented: bool = True  # listed in the OpenAPI document (the document's own views are not)
    form: bool = False  # the query parameters may come as form fields too (zkReEncryptRandomKey)


class Controller:
    """One blueprint and the endpoints declared on it."""

    def __init__(self, name: str, tag: str) -> None:
        self.blueprint = Blueprint(name, f"{__name__}.{name}")
        self.tag = tag
        self.endpoints: list[Endpoint] = []

    def get(self, path: str, **facts: Any) -> Callable[[View], View]:
        return self.route("GET", path, **facts)

    def post(self, path: str, **facts: Any) -> Callable[[View], View]:
        return self.route("POST", path, **facts)

    def put(self, path: str, **facts: Any) -> Callable[[View], View]:
        return self.route("PUT", path, **facts)

    def route(
        self, method: str, path: str, *, summary: str, role: str, **facts: Any
    ) -> Callable[[View], View]:
        if role not in ROLE_TABLE and role not in (PUBLIC, AUTHENTICATED):
            raise ValueError(f"{method} {path}: unknown role key {role!r} (entrypoints/http/roles.py)")

        def declare(view: View) -> View:
            endpoint = Endpoint(
                name=f"{self.blueprint.name}.{view.__name__}", method=method, path=path, summary=summary,
                tag=self.tag, role=role, **facts,
            )
            handler = _handler(endpoint, view)
            self.blueprint.add_url_rule(path, view.__name__, handler, methods=[method])
            self.endpoints.append(endpoint)
            return handler

        return declare


def _handler(endpoint: Endpoint, view: View) -> View:
    """The Flask view: loads what the declaration names, then calls ``view``."""
    request_schema, query_schema, provider, form = endpoint.request, endpoint.query, endpoint.use_case, endpoint.form

    @functools.wraps(view)
    def handler(**path_variables: Any) -> BaseResponse:
        arguments = path_variables
        if query_schema is not None:
            arguments["query"] = load_query(query_schema, request.values if form else request.args)
        if request_schema is not None:
            arguments["dto"] = load_request(request_schema, request_body())
        if provider is not None:
            arguments["use_case"] = getattr(current_app.extensions["container"], provider)()
        return view(**arguments)

    return handler


def install(app: Flask, controllers: Iterable[Controller], prefix: str) -> dict[str, Endpoint]:
    """Register the controllers' blueprints under ``prefix``; the endpoints, by Flask name, on the app."""
    endpoints: dict[str, Endpoint] = {}
    for controller in controllers:
        app.register_blueprint(controller.blueprint, url_prefix=prefix)
        endpoints.update((endpoint.name, endpoint) for endpoint in controller.endpoints)
    app.extensions[EXTENSION] = endpoints
    return endpoints


def endpoints_of(app: Flask) -> dict[str, Endpoint]:
    return app.extensions[EXTENSION]
