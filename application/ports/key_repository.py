"""The key repository port: the semantics of key_alias, key_store and key_policy_def."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.keys import KeyAlias, KeyPolicy, KeyTuple, StoredKey


class KeyRepository(Protocol):
    def policy(self, app_id: str) -> KeyPolicy | None:
        """The key_policy_def row of ``app_id`` (active or not), None when absent."""

    def save_policy(self, policy: KeyPolicy) -> None:
        """Insert or replace a policy."""

    def policies(self) -> list[KeyPolicy]:
        """Every key_policy_def row (active or not), by app_id."""

    def aliases_for(self, key_tuple: KeyTuple) -> list[KeyAlias]:
        """Every key_alias row of the tuple, oldest generation first."""

    def aliases_with_thumbprint(self, thumbprint_hex: str) -> list[KeyAlias]:
        """Rows whose cert_thumbprint equals the (upper-case hex) thumbprint."""

    def all_aliases(self) -> list[KeyAlias]:
        """Every key_alias row, by app, ref and generation time."""

    def add_alias(self, alias: KeyAlias) -> None:
        """Insert a key_alias row."""

    def set_expiry(self, alias: str, expires_at: datetime) -> None:
        """Change a key's expiry (revocation, forced regeneration, rotation of uploads)."""

    def update_alias(self, alias: KeyAlias) -> None:
        """Rewrite a key's validity, thumbprint and unique identifier (uploadCertificate)."""

    def update_certificate(self, alias: str, certificate_pem: str) -> None:
        """Replace a database-held key's certificate (uploadCertificate)."""

    def retire_thumbprint(self, thumbprint_hex: str, alias: str) -> None:
        """Remember a thumbprint the key under ``alias`` had before its certificate was replaced."""

    def alias_with_retired_thumbprint(self, thumbprint_hex: str) -> KeyAlias | None:
        """The key that once had this thumbprint, None when none did."""

    def uni_ident_exists(self, uni_ident: str) -> bool:
        """Whether a key_alias row already carries this unique identifier."""

    def stored_key(self, alias: str) -> StoredKey | None:
        """The key_store row of a database-held key, None for keystore (HSM) keys."""

    def add_stored_key(self, stored: StoredKey) -> None:
        """Insert a key_store row."""
