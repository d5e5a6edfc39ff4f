from __future__ import annotations

import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from application.crypto import primitives as crypto
from application.keys.hierarchy import KeyHierarchy
from application.keys.zk import ZkKeys, derive_key
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.zk.attributes import ZkAttribute, ZkPublicKeys
from domain.codec import b64url_encode
from domain.errors import Errors, KeyManagerError
from domain.identifiers import thumbprint
from domain.keys import KeyTuple
from domain.zk import AAD_BYTES, NONCE_BYTES, ZkValue, pack_value

log = logging.getLogger("keymanager.zk")




@dataclass(frozen=True)
class ZkEncryptCommand:
    id: str
    attributes: list[ZkAttribute]


@dataclass(frozen=True)
class ZkEncryptResult:
    attributes: list[ZkAttribute]
    encrypted_random_key: str
    random_key_index: str




class ZkEncrypt:
    """zkEncrypt: every attribute under the resident's key derived from one random pool key;
    that random key RSA-OAEP-encrypted to each configured IDA certificate (dot-joined)."""

    def __init__(
        self,
        zk_keys: ZkKeys,
        hierarchy: KeyHierarchy,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        public_keys: ZkPublicKeys,
    ) -> None:
        self.zk_keys = zk_keys
        self.hierarchy = hierarchy
        self.uow_factory = uow_factory
        self.clock = clock
        self.public_keys = public_keys

    def execute(self, command: ZkEncryptCommand) -> ZkEncryptResult:
        index = self.zk_keys.pick_index()
        random_key = self.zk_keys.random_key(index)
        key = derive_key(random_key, command.id)
        encrypted = [ZkAttribute(a.identifier, self._seal(key, index, a.value)) for a in command.attributes]
        return ZkEncryptResult(encrypted, self._encrypted_random_key(random_key), str(index))

    @staticmethod
    def _seal(key: bytes, index: int, value: str) -> str:
        nonce, aad = crypto.random_bytes(NONCE_BYTES), crypto.random_bytes(AAD_BYTES)
        try:
            sealed = crypto.aes_gcm_encrypt(key, nonce, value.encode("utf-8"), aad)
        except (ValueError, UnicodeEncodeError):
            raise KeyManagerError(Errors.ZK_DATA_CRYPTO) from None
        return b64url_encode(pack_value(ZkValue(index, nonce, aad, sealed)))

    def missing_public_keys(self) -> list[str]:
        """``APP:REF`` of each configured ZK public key without exactly one current certificate (status, health)."""
        now = self.clock.now()
        missing = []
        with self.uow_factory() as uow:
            for ref_id in self.public_keys.ref_ids:
                _, current = self.hierarchy.aliases(uow.keys, KeyTuple(self.public_keys.app_id, ref_id), now)
                if len(current) != 1:
                    missing.append(f"{self.public_keys.app_id}:{ref_id}")
        return missing

    def _encrypted_random_key(self, random_key: bytes) -> str:
        """base64url(SHA-256(cert DER) ‖ RSA-OAEP-SHA256(R)) per configured reference, joined with '.'.
        Each reference needs exactly one current key with a certificate (KER-ZKC-002)."""
        parts = []
        now = self.clock.now()
        with self.uow_factory() as uow:
            for ref_id in self.public_keys.ref_ids:
                _, current = self.hierarchy.aliases(uow.keys, KeyTuple(self.public_keys.app_id, ref_id), now)
                if len(current) != 1:
                    # The answer keeps the reference's code and message; the log says what was looked for.
                    log.warning("zkEncrypt: %d current certificates for %s:%s, one needed (the partner that "
                                "decrypts uploads it with uploadOtherDomainCertificate)",
                                len(current), self.public_keys.app_id, ref_id)
                    raise KeyManagerError(Errors.ZK_NO_UNIQUE_ALIAS)
                try:
                    certificate, der, _ = self.hierarchy.certificate_of(uow.keys, current[0])
                except KeyManagerError:
                    raise KeyManagerError(Errors.ZK_NO_UNIQUE_ALIAS) from None
                public_key = certificate.public_key()
                if not isinstance(public_key, rsa.RSAPublicKey):
                    raise KeyManagerError(Errors.ZK_RANDOM_KEY)
                parts.append(b64url_encode(thumbprint(der) + crypto.rsa_oaep_encrypt(public_key, random_key)))
        return ".".join(parts)
