"""Swagger UI, served by the service itself (placeholder: filled in by the Swagger UI work)."""
from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("swagger_ui", __name__)
