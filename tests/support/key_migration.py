"""The tests' stand-in for the reference's keys-migrator job (kernel/keys-migrator, BaseKeysMigrator):
it reads the old deployment's store and uses the old deployment's keystore (its HSM access) to open
each base private key and each ZK pool key, then re-wraps them for the new deployment with
`cryptography` only, from mosip-crypto.md §3.5 (wrapped base private key) and §4 (pool rows):

* base key: base64url( RSA-OAEP-SHA256(new master public key, S) ‖ "#KEY_SPLITTER#" ‖
  AES-GCM(S, PKCS#8) as ct ‖ tag ‖ iv16, no AAD ), posted to /migrateBaseKey with the certificate
  and the old key_alias validity;
* ZK pool key: R = AES-ECB-decrypt(old ZK master, standard-base64 row), posted to /migrateZKKeys
  as base64url( RSA-OAEP-SHA256(temporary certificate's key, R) ) under the row's index.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.keys import KeyTuple

SPLITTER = b"#KEY_SPLITTER#"
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
ZK_MASTER = ("KERNEL", "IDENTITY_CACHE")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def instant(moment: datetime) -> str:
    """yyyy-MM-dd'T'HH:mm:ss.SSS'Z' (KeyMigrateBaseKeyRequestDto.notBefore/notAfter)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class ExportedBaseKey:
    app_id: str
    ref_id: str
    alias: str
    private_key_pkcs8: bytes  # "" for a certificate-only key
    certificate_pem: str
    not_before: datetime
    not_after: datetime

    @property
    def certificate_only(self) -> bool:
        return not self.private_key_pkcs8

    def request(self, new_master: x509.Certificate | None) -> dict:
        """The /migrateBaseKey request: the private key wrapped for ``new_master`` (None: "NA")."""
        wrapped = "NA" if self.certificate_only or new_master is None else wrap_private_key(
            self.private_key_pkcs8, new_master
        )
        return {
            "applicationId": self.app_id,
            "referenceId": self.ref_id,
            "encryptedKeyData": wrapped,
            "certificateData": self.certificate_pem,
            "notBefore": instant(self.not_before),
            "notAfter": instant(self.not_after),
        }


def wrap_private_key(pkcs8: bytes, master: x509.Certificate) -> str:
    public_key = master.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    session_key = AESGCM.generate_key(bit_length=256)
    iv = os.urandom(16)
    sealed = AESGCM(session_key).encrypt(iv, pkcs8, None) + iv
    return b64url(public_key.encrypt(session_key, OAEP) + SPLITTER + sealed)


def unwrap_private_key(wrapped: str, master_alias: str, keystore) -> bytes:
    """The PKCS#8 of a key_store private_key: RSA-OAEP with the old master key (its keystore), then AES-GCM."""
    blob = b64url_decode(wrapped)
    encrypted_key, _, sealed = blob.partition(SPLITTER)
    session_key = keystore.decrypt(master_alias, encrypted_key)
    pkcs8 = AESGCM(session_key).decrypt(sealed[-16:], sealed[:-16], None)
    serialization.load_der_private_key(pkcs8, password=None)  # it is a private key
    return pkcs8


def export_base_keys(container, app_ids: tuple[str, ...], ref_ids: tuple[str, ...] | None = None) -> list:
    """Every database-held key (base keys and certificate-only keys) of ``app_ids`` in the old
    deployment of ``container``, oldest first, opened with its keystore."""
    keystore = container.keystore()
    exported = []
    with container.uow_factory()() as uow:
        for alias in uow.keys.all_aliases():
            if alias.app_id not in app_ids or not alias.ref_id or (ref_ids and alias.ref_id not in ref_ids):
                continue
            stored = uow.keys.stored_key(alias.alias)
            if stored is None:
                continue
            pkcs8 = b"" if stored.private_key == "NA" else unwrap_private_key(
                stored.private_key, stored.master_alias, keystore
            )
            exported.append(ExportedBaseKey(alias.app_id, alias.ref_id, alias.alias, pkcs8, stored.certificate_pem,
                                            alias.generated_at, alias.expires_at))
    return sorted(exported, key=lambda key: key.not_before)


def export_zk_keys(container) -> dict[int, bytes]:
    """index -> raw random key R of every pool row of the old deployment (its current ZK master key)."""
    keystore = container.keystore()
    with container.uow_factory()() as uow:
        masters = uow.keys.aliases_for(KeyTuple(*ZK_MASTER))
        assert len(masters) == 1, masters
        rows = {index: uow.zk.row(index) for index in uow.zk.active_ids()}
    keys = {}
    for index, row in rows.items():
        wrapped = base64.b64decode(row.key, validate=True)  # standard base64, padded
        keys[index] = keystore.decrypt_blocks(masters[0].alias, wrapped)
        assert len(keys[index]) == 32
    return keys


def zk_migration_request(keys: dict[int, bytes], temp_certificate_pem: str, purge: bool | None) -> dict:
    public_key = x509.load_pem_x509_certificate(temp_certificate_pem.encode("ascii")).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    items = [{"keyIndex": index, "encryptedKeyData": b64url(public_key.encrypt(key, OAEP))}
             for index, key in sorted(keys.items())]
    return {"zkEncryptedDataList": items, "purgeTempKeyFlag": purge}


class Deployment:
    """One Key Manager deployment in this process: its container and a Flask test client of its app
    (each app resolves use cases from its own container, so deployments live side by side)."""

    def __init__(self, settings, container) -> None:
        from entrypoints.http.app import create_app

        self.settings = settings
        self.container = container
        self.client = create_app(settings, container).test_client()
