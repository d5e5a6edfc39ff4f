"""Cryptographic primitives and formats, from `cryptography`: AES, RSA-OAEP, signatures, X.509, JOSE/JWE,
PIN, Argon2, token id."""
