"""Micro-benchmarks of the in-process use cases against the raw primitives (``python -m bench``)."""
