"""The HTTP API under /v1/keymanager: Flask app factory, blueprints, schemas, envelope."""
