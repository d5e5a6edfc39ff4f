from __future__ import annotations

from application.crypto import pin as pin_crypto
from application.support.work_limiter import WorkLimiter
from domain.errors import Errors, KeyManagerError


class PinEncryption:
    """encryptWithPin / decryptWithPin: PBKDF2-HMAC-SHA512 (the configured iterations, the
    reference's 100,000 by default) and AES-256-GCM. The key derivation is deliberately slow,
    so it runs under the slow-work limiter: a burst cannot occupy every worker thread."""

    def __init__(self, iterations: int, limiter: WorkLimiter) -> None:
        self.iterations = iterations
        self.limiter = limiter

    def encrypt(self, data: str, pin: str) -> str:
        _require(data, pin)
        with self.limiter.slot():
            return pin_crypto.encrypt_with_pin(data, pin, self.iterations)

    def decrypt(self, blob: str, pin: str) -> str:
        _require(blob, pin)
        with self.limiter.slot():
            return pin_crypto.decrypt_with_pin(blob.strip(), pin, self.iterations)


def _require(data: str, pin: str) -> None:
    if not (data or "").strip() or not (pin or "").strip():
        raise KeyManagerError(Errors.EMPTY_DATA)
