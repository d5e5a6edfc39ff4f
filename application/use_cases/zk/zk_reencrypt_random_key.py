from __future__ import annotations

from application.keys.zk import ZkKeys
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.cryptomanager.decrypt_data import DecryptData
from application.use_cases.zk.attributes import ZkPublicKeys
from domain.codec import b64url_decode, hex_upper
from domain.envelope import THUMBPRINT_LENGTH
from domain.errors import Errors, KeyManagerError
from domain.keys import KeyTuple


class ZkReEncryptRandomKey:
    """zkReEncryptRandomKey: find the part of a zkEncrypt `encryptedRandomKey` that was made
    for one of our IDA keys (by thumbprint), open it with that key's private key, and wrap
    the random key under our own ZK master key (a pool row's format). The IDA key list is
    read per request, not cached for the process's life as the reference does."""

    def __init__(
        self, zk_keys: ZkKeys, uow_factory: UnitOfWorkFactory, decrypt: DecryptData, public_keys: ZkPublicKeys
    ) -> None:
        self.zk_keys = zk_keys
        self.uow_factory = uow_factory
        self.decrypt = decrypt
        self.public_keys = public_keys

    def execute(self, encrypted_key: str, caller: str | None = None) -> str:
        if not (encrypted_key or "").strip():
            raise KeyManagerError(Errors.ZK_INVALID_RANDOM_KEY)
        ours = self._our_thumbprints()
        for part in encrypted_key.strip().split("."):
            try:
                raw = b64url_decode(part)
            except KeyManagerError:
                continue
            thumbprint, wrapped = raw[:THUMBPRINT_LENGTH], raw[THUMBPRINT_LENGTH:]
            ref_id = ours.get(hex_upper(thumbprint))
            if ref_id is None or not wrapped:
                continue
            # No access_allowed check here, as in the reference: the IDA application usually has
            # no key policy in this deployment (its certificate is an other-domain upload).
            random_key = self.decrypt.open_session_key(
                self.public_keys.app_id, ref_id, thumbprint, wrapped, caller=caller, check_access=False
            )
            with self.uow_factory() as uow:
                master, _ = self.zk_keys.master_aliases(uow)
            return self.zk_keys.wrap(master, random_key)
        raise KeyManagerError(Errors.ZK_INVALID_RANDOM_KEY)

    def _our_thumbprints(self) -> dict[str, str]:
        """Thumbprint (upper-case hex) -> reference id, over every key of the IDA references."""
        found = {}
        with self.uow_factory() as uow:
            for ref_id in self.public_keys.ref_ids:
                for alias in uow.keys.aliases_for(KeyTuple(self.public_keys.app_id, ref_id)):
                    if alias.thumbprint:
                        found[alias.thumbprint] = ref_id
        return found
