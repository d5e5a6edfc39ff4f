"""Edges of the service: configuration, the DI container, HTTP (Flask) and the CLI."""
