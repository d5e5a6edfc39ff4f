"""/rewrap (issue 18): re-encrypt an envelope to the current key of its (app, ref), optionally into the
hybrid post-quantum format, without the plaintext ever leaving the service (ADR 0023)."""
from __future__ import annotations

from dataclasses import dataclass

from application.use_cases.cryptomanager.decrypt_data import DecryptCommand, DecryptData
from application.use_cases.cryptomanager.encrypt_data import EncryptCommand, EncryptData
from domain import envelope, pq_envelope
from domain.errors import Errors, KeyManagerError


@dataclass(frozen=True)
class RewrapCommand:
    app_id: str
    ref_id: str
    data: bytes  # a VER_R2 or VER_Q1 envelope (binary, before base64url)
    #: True: VER_Q1; False: VER_R2; None: VER_Q1 when the input is VER_Q1 or the application's policy
    #: asks for it (a rewrap never silently downgrades a hybrid envelope).
    pq_hybrid: bool | None = None
    caller: str | None = None


@dataclass(frozen=True)
class RewrapResult:
    data: bytes  # the new envelope
    pq_hybrid: bool


class RewrapData:
    """Decrypt with every check of /decrypt (access policy included), then encrypt to the current key
    as /encrypt does. The plaintext lives only in this call's frame; it is never returned or logged."""

    def __init__(self, decrypt: DecryptData, encrypt: EncryptData) -> None:
        self.decrypt = decrypt
        self.encrypt = encrypt

    def execute(self, command: RewrapCommand) -> RewrapResult:
        was_hybrid = pq_envelope.is_hybrid(command.data)
        if not (was_hybrid or command.data.startswith(envelope.VERSION_HEADER)):
            # Only the headed formats: salt/aad variants need the caller's salt or aad, legacy data a guess.
            raise KeyManagerError(Errors.INVALID_DATA_WITHOUT_SPLITTER)
        plaintext = self.decrypt.execute(
            DecryptCommand(command.app_id, command.ref_id, command.data, caller=command.caller)
        ).data
        hybrid = command.pq_hybrid if command.pq_hybrid is not None else was_hybrid
        encrypt = EncryptCommand(command.app_id, command.ref_id, plaintext, pq_hybrid=hybrid)
        hybrid = self.encrypt.wants_hybrid(encrypt)
        return RewrapResult(self.encrypt.execute(encrypt).data, hybrid)
