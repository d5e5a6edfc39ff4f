"""Adapters: implementations of the application ports (keystores, repositories)."""
