"""ZKCryptoManagerController's use cases (plus the ZK pool initialisation of the CLI)."""
