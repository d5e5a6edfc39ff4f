"""Use cases and the ports they need, grouped by feature:

* ``ports/``: the interfaces adapters implement (store, keystore, clock, audit log...).
* ``crypto/``: primitives and formats (AES, RSA-OAEP, signatures, X.509, JOSE/JWE, PIN, Argon2, token id).
* ``keys/``: the key hierarchy, signing, symmetric and ZK keys, trust paths to ROOT.
* ``partner_trust/``: the partner trust store.
* ``support/``: the audit writer, a TTL cache, the slow-work limiter.
* ``use_cases/<controller>/``: one module per use case, grouped like the HTTP blueprints.

Imports the domain and libraries only: `cryptography`, `joserfc` and `argon2` for cryptography,
`cachetools` for caches (tests/unit/test_layers.py and the import-linter contracts check it).
"""
