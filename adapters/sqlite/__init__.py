"""SQLite store: the embedded default, with the reference's table layout."""
