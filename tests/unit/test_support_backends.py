"""The throwaway back-ends' URLs (tests/support/backends.py, shared with python -m bench): credentials are
URL-quoted, so a password with '@', ':' or '/' reaches the server as it was written."""
from __future__ import annotations

from adapters.postgres.key_repository import PostgresOptions
from tests.support.backends import postgres_url


def test_credentials_are_quoted_and_read_back_unchanged() -> None:
    url = postgres_url("key manager", "p@ss:w/rd%", "127.0.0.1", 5433, "km_test_x")
    assert url == "postgresql://key%20manager:p%40ss%3Aw%2Frd%25@127.0.0.1:5433/km_test_x"
    options = PostgresOptions.from_url(url)
    assert (options.user, options.password, options.host, options.port, options.database) == (
        "key manager", "p@ss:w/rd%", "127.0.0.1", 5433, "km_test_x")


def test_no_password_no_colon() -> None:
    assert postgres_url("postgres", None, "127.0.0.1", 5432, "db") == "postgresql://postgres@127.0.0.1:5432/db"
