"""What the SQL stores (SQLite, PostgreSQL) share: the repository's queries over the reference's tables."""
