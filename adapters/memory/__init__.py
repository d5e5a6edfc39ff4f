"""In-memory adapters, for tests and throw-away runs."""
