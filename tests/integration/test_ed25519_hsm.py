"""Ed25519 signing keys made inside the HSM (KEYMANAGER_ED25519_IN_KEYSTORE, the reference's
mosip.kernel.keymanager.ed25519.hsm.support.enabled; mosip-api.md §2.9), on a real SoftHSM2 token,
which offers CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA (2.6).

The private key is looked at with python-pkcs11 directly: in the token, sensitive, never
extractable. Signatures are checked with `cryptography` and PyJWT (independent) and through
/jwtVerify; COSE messages with python-cwt.
"""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jwt
import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11

from adapters.clock import ManualClock
from adapters.pkcs11 import keystore as pkcs11_keystore
from application.ports.keystore import KeyAlgorithm, KeystoreError
from domain.keys import KeyTuple
from entrypoints.containers import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import ConfigurationError
from tests.support.containers import init_master_keys, pkcs11_settings
from tests.support.cose import independent_verify
from tests.support.http_api import API, APP, ED, b64url, error, generate_sign_key, header_of, ok, post
from tests.support.pkcs11 import own_session
from tests.support.repo import START

pytestmark = [
    pytest.mark.softhsm,
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. 'pkcs11._pkcs11.OperationContext.__del__':pytest.PytestUnraisableExceptionWarning"
    ),
    # joserfc (the service's verifier) warns that "EdDSA" is superseded by "Ed25519"; MOSIP uses "EdDSA".
    pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning"),
]

PAYLOAD = b'{"iss":"https://issuer.example","credentialSubject":{"id":"did:example:1"}}'


@pytest.fixture
def hsm(tmp_path: Path, softhsm_token, make_container):
    """``start(ed25519_in_keystore)`` -> (client, container) on one data directory and the session's token."""

    def start(in_keystore: bool = True, *, init: bool = True):
        settings = pkcs11_settings(tmp_path / "data", softhsm_token, ed25519_in_keystore=in_keystore)
        container = make_container(settings, ManualClock(START))
        if init:
            init_master_keys(container)
        return create_app(settings, container).test_client(), container

    return start


def certificate_of(client, app: str, ref: str) -> x509.Certificate:
    response = ok(client.get(f"{API}/getCertificate", query_string={"applicationId": app, "referenceId": ref}))
    return x509.load_pem_x509_certificate(response["certificate"].encode())


def alias_of(container, certificate: x509.Certificate) -> str:
    hierarchy = container.hierarchy()
    with container.uow_factory()() as uow:
        for row in uow.keys.aliases_for(KeyTuple(APP, ED)):
            if hierarchy.certified(uow.keys, row).certificate == certificate:
                return row.alias
    raise AssertionError("no ED25519_SIGN alias has that certificate")


def has_key_store_row(container, alias: str) -> bool:
    with container.uow_factory()() as uow:
        return uow.keys.stored_key(alias) is not None


def token_view(token: dict[str, str], alias: str) -> dict[str, Any] | None:
    """The token's own attributes of the private key under ``alias`` and its public key (None: no key)."""
    with own_session(token) as session:
        found = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: alias.encode()}))
        if not found:
            return None
        (private,) = found
        try:
            private[Attribute.VALUE]
            value_readable = True
        except p11.AttributeSensitive:
            value_readable = False
        public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, id=alias.encode())
        point = bytes(public[Attribute.EC_POINT])
        return {
            "key_type": private.key_type,
            "sensitive": private[Attribute.SENSITIVE],
            "extractable": private[Attribute.EXTRACTABLE],
            "always_sensitive": private[Attribute.ALWAYS_SENSITIVE],
            "never_extractable": private[Attribute.NEVER_EXTRACTABLE],
            "token": private[Attribute.TOKEN],
            "value_readable": value_readable,
            "public": point[-32:],
        }


def sign(client, path: str, **flags: Any) -> str:
    request = {"dataToSign": b64url(PAYLOAD), "applicationId": APP, "referenceId": ED, "includePayload": True,
               **flags}
    if path.startswith("/jwsSign"):
        request.setdefault("validateJson", True)
    return ok(post(client, path, request))["jwtSignedData"]


def check_token(client, token: str, public_key: ed25519.Ed25519PublicKey) -> None:
    head, middle, signature = token.split(".")
    header = header_of(token)[1]
    assert header["alg"] == "EdDSA"
    if header.get("b64") is False:  # jwsSign: RFC 7797, the raw payload in the signing input
        signing_input = head.encode() + b"." + PAYLOAD
        jwt.api_jws.PyJWS().decode_complete(f"{head}..{signature}", public_key, algorithms=["EdDSA"],
                                            detached_payload=PAYLOAD)
    else:
        signing_input = f"{head}.{middle}".encode()
        assert jwt.api_jws.PyJWS().decode_complete(token, public_key, algorithms=["EdDSA"])["payload"] == PAYLOAD
    public_key.verify(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), signing_input)
    result = ok(post(client, "/jwtVerify", {"jwtSignatureData": token, "applicationId": APP, "referenceId": ED}))
    assert result["signatureValid"] is True, result


# -- the key in the token ------------------------------------------------------------------------


def test_generate_ec_sign_key_makes_the_ed25519_key_in_the_token(hsm, softhsm_token) -> None:
    client, container = hsm()
    certificate = generate_sign_key(client, APP, ED)
    public_key = certificate.public_key()
    assert isinstance(public_key, ed25519.Ed25519PublicKey)
    # Issued by ROOT, like the EC signing keys (the reference's generateAndStoreAsymmetricKey).
    certificate.verify_directly_issued_by(certificate_of(client, "ROOT", ""))
    assert generate_sign_key(client, APP, ED) == certificate  # idempotent
    assert certificate_of(client, APP, ED) == certificate

    alias = alias_of(container, certificate)
    assert not has_key_store_row(container, alias)
    view = token_view(softhsm_token, alias)
    assert view == {
        "key_type": KeyType.EC_EDWARDS, "sensitive": True, "extractable": False, "always_sensitive": True,
        "never_extractable": True, "token": True, "value_readable": False,
        "public": public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    }
    all_certificates = ok(client.get(f"{API}/getAllCertificates",
                                     query_string={"applicationId": APP, "referenceId": ED}))["allCertificates"]
    assert [x509.load_pem_x509_certificate(c["certificateData"].encode()) for c in all_certificates] == [certificate]


@pytest.mark.parametrize("path", ["/jwtSign", "/jwtSign/v2", "/jwsSign", "/jwsSign/v2"])
def test_the_token_key_signs_jws(hsm, path) -> None:
    client, _ = hsm()
    certificate = generate_sign_key(client, APP, ED)
    chain = {"includeCertificateChain": True} if path.endswith("/v2") else {"includeCertificate": True}
    token = sign(client, path, **chain)
    assert base64.b64decode(header_of(token)[1]["x5c"][0]) == certificate.public_bytes(serialization.Encoding.DER)
    check_token(client, token, certificate.public_key())  # type: ignore[arg-type]


def test_the_token_key_signs_cose_raw_and_csr(hsm) -> None:
    client, _ = hsm()
    certificate = generate_sign_key(client, APP, ED)
    signed = ok(post(client, "/coseSign1", {"payload": b64url(PAYLOAD), "applicationId": APP, "referenceId": ED,
                                            "protectedHeader": {"kid": True}}))["signedData"]
    independent_verify(signed, certificate)
    raw = ok(post(client, "/signRawData", {"dataToSign": b64url(PAYLOAD), "applicationId": APP, "referenceId": ED,
                                           "responseEncodingFormat": "base64url", "signAlgorithm": "EdDSA"}))
    signature = raw["signedData"]
    certificate.public_key().verify(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), PAYLOAD)
    response = ok(post(client, "/generateCSR", {"applicationId": APP, "referenceId": ED}))
    csr = x509.load_pem_x509_csr(response["certSignRequest"].encode())
    assert csr.is_signature_valid and csr.public_key() == certificate.public_key()


def test_keys_outlive_a_change_of_the_setting(hsm, softhsm_token) -> None:
    """Keys made in the token keep signing with the setting switched off (the key_store row that
    is not there says where the key is); a forced regeneration then makes a database key, and
    switched on again, the next one is in the token again."""
    client, container = hsm(True)
    in_token = generate_sign_key(client, APP, ED)

    client, container = hsm(False, init=False)  # a restart on the same data directory and token
    check_token(client, sign(client, "/jwtSign", includeCertificate=True), in_token.public_key())  # type: ignore[arg-type]
    in_database = generate_sign_key(client, APP, ED, force=True)
    assert has_key_store_row(container, alias_of(container, in_database))
    assert token_view(softhsm_token, alias_of(container, in_database)) is None
    in_database.verify_directly_issued_by(certificate_of(client, APP, ""))
    check_token(client, sign(client, "/jwsSign"), in_database.public_key())  # type: ignore[arg-type]

    client, container = hsm(True, init=False)
    again = generate_sign_key(client, APP, ED, force=True)
    assert token_view(softhsm_token, alias_of(container, again)) is not None
    check_token(client, sign(client, "/jwtSign/v2"), again.public_key())  # type: ignore[arg-type]
    listed = ok(client.get(f"{API}/getAllCertificates",
                           query_string={"applicationId": APP, "referenceId": ED}))["allCertificates"]
    assert [x509.load_pem_x509_certificate(c["certificateData"].encode()) for c in listed] == [
        in_token, in_database, again]


# -- a token without the mechanisms ----------------------------------------------------------------


def lack_a_mechanism(monkeypatch: pytest.MonkeyPatch, token: dict[str, str]) -> None:
    """Ed25519 made to need, besides its own, a mechanism SoftHSM2 2.6 does not offer (CKM_SHA3_256),
    so the check runs against the real token's mechanism list."""
    offered = pkcs11.lib(token["module"]).get_token(token_label=token["label"]).slot.get_mechanisms()
    assert Mechanism.SHA3_256 not in set(offered)
    needed = dict(pkcs11_keystore._MECHANISMS_NEEDED)
    needed[KeyAlgorithm.ED25519] = (*needed[KeyAlgorithm.ED25519], ("CKM_SHA3_256", Mechanism.SHA3_256))
    monkeypatch.setattr(pkcs11_keystore, "_MECHANISMS_NEEDED", needed)


def test_the_real_token_offers_what_ed25519_needs(softhsm_token, tmp_path) -> None:
    settings = pkcs11_settings(tmp_path / "data", softhsm_token, ed25519_in_keystore=True)
    assert build_container(settings).keystore().missing_mechanisms(KeyAlgorithm.ED25519) == []


def test_start_up_fails_on_a_token_without_the_mechanisms(softhsm_token, tmp_path, monkeypatch) -> None:
    lack_a_mechanism(monkeypatch, softhsm_token)
    settings = pkcs11_settings(tmp_path / "data", softhsm_token, ed25519_in_keystore=True)
    with pytest.raises(ConfigurationError, match="KEYMANAGER_ED25519_IN_KEYSTORE=true.*CKM_SHA3_256"):
        build_container(settings)
    build_container(settings.with_overrides(ed25519_in_keystore=False))  # keys in the database: no such need


def test_generation_on_a_token_without_the_mechanisms(hsm, softhsm_token, monkeypatch) -> None:
    client, container = hsm()  # started while the token offered what Ed25519 needs
    keystore = container.keystore()
    lack_a_mechanism(monkeypatch, softhsm_token)
    with pytest.raises(KeystoreError, match="CKM_SHA3_256"):
        keystore.generate_key_pair("ed25519-refused", KeyAlgorithm.ED25519)
    error(post(client, "/generateECSignKey/CERTIFICATE", {"applicationId": APP, "referenceId": ED}), "KER-KMA-003")
    assert "ed25519-refused" not in keystore.aliases()
