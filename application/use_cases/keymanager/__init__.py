"""KeymanagerController's use cases (plus the rotation the CLI and the server schedule run)."""
