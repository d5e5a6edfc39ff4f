"""The signing options the JWS and COSE endpoints share (issue 16): the kid switch and prefix
(`KEYMANAGER_SIGN_INCLUDE_KEYID`, `KEYMANAGER_SIGN_KID_PREFIX`, mosip-api.md §1.9 and §4,
mosip-cose-pdf.md A.4), and the certificate chain of `includeCertificateChain` for a key an outside
CA certified: the path through the TRUST_CA partner domain's CA certificates (mosip-api.md §4.9).

Independent checks: PyJWT verifies every token, python-cwt every COSE message, and the chains are
validated with `cryptography`'s X.509 verifier from the outside root the test made itself.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import cbor2
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store

from adapters.clock import ManualClock
from domain.keys import KeyTuple
from entrypoints.http.app import create_app
from tests.support.containers import init_master_keys
from tests.support.cose import independent_verify, sign1_parts
from tests.support.http_api import API, APP, ED, K1, P256, b64url, generate_sign_key, header_of, ok, post
from tests.support.pki import Issued, make_certificate
from tests.support.repo import START

# joserfc (the service's verifier) warns that "EdDSA" is superseded by "Ed25519"; MOSIP uses "EdDSA".
pytestmark = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")

PYJWS = jwt.api_jws.PyJWS()
PAYLOAD = b'{"iss":"https://issuer.example/mosip","sub":"holder","n":1}'
NO_ISSUER = b'{"sub":"holder","n":2}'
JWT_ALG = {"": "RS256", P256: "ES256", K1: "ES256K", ED: "EdDSA"}
JWS_ALG = {"": "PS256", P256: "ES256", K1: "ES256K", ED: "EdDSA"}
SIGN_PATHS = ("/jwtSign", "/jwtSign/v2", "/jwsSign", "/jwsSign/v2")


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def configured(memory_settings, make_container) -> Callable[..., tuple[Any, Any]]:
    """An app with some settings changed: ``build(**overrides) -> (client, container)``."""

    def build(**overrides: Any):
        settings = memory_settings.with_overrides(**overrides)
        container = make_container(settings, ManualClock(START))
        init_master_keys(container)
        return create_app(settings, container).test_client(), container

    return build


def sign(client, path: str, ref: str = "", payload: bytes = PAYLOAD, **flags: Any) -> str:
    request: dict[str, Any] = {"dataToSign": b64url(payload), "applicationId": APP, "referenceId": ref,
                               "includePayload": True, **flags}
    if path.startswith("/jwsSign"):
        request.setdefault("validateJson", False)
    return ok(post(client, path, request))["jwtSignedData"]


def pyjwt_verify(token: str, public_key: CertificatePublicKeyTypes, algorithm: str, payload: bytes = PAYLOAD) -> None:
    """PyJWT, with only ``algorithm`` allowed; an RFC 7797 token (b64: false) with its payload detached."""
    head, _, signature = token.split(".")
    if header_of(token)[1].get("b64") is False:
        decoded = PYJWS.decode_complete(f"{head}..{signature}", public_key, algorithms=[algorithm],
                                        detached_payload=payload)
    else:
        decoded = PYJWS.decode_complete(token, public_key, algorithms=[algorithm])
    assert decoded["payload"] == payload


def key_id_of(client, ref: str = "") -> str:
    """The current key's keyId as getAllCertificates reports it (mosip-api.md §1.9)."""
    response = client.get(f"{API}/getAllCertificates", query_string={"applicationId": APP, "referenceId": ref})
    return ok(response)["allCertificates"][-1]["keyId"]


def certificate_of(client, ref: str = "") -> x509.Certificate:
    response = ok(client.get(f"{API}/getCertificate", query_string={"applicationId": APP, "referenceId": ref}))
    return x509.load_pem_x509_certificate(response["certificate"].encode())


def x5c(token: str) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(base64.b64decode(entry, validate=True))
            for entry in header_of(token)[1]["x5c"]]


def cose_sign(client, ref: str = "", payload: bytes = PAYLOAD, **headers: Any) -> str:
    request = {"payload": b64url(payload), "applicationId": APP, "referenceId": ref, **headers}
    return ok(post(client, "/coseSign1", request))["signedData"]


def cose_protected(signed: str) -> dict[Any, Any]:
    return cbor2.loads(sign1_parts(signed)[0])


def validated(chain: list[x509.Certificate], root: x509.Certificate) -> list[x509.Certificate]:
    """The path `cryptography`'s verifier builds from chain[0] to ``root`` with chain[1:] as the only
    intermediates (CAs held to the Web PKI's CA rules; the signing certificate's extensions free)."""
    verifier = (
        PolicyBuilder().store(Store([root])).time(START)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
        .build_client_verifier()
    )
    return list(verifier.verify(chain[0], chain[1:]).chain)


# -- the kid: switch and prefix ------------------------------------------------------------------


@pytest.mark.parametrize("path", SIGN_PATHS)
def test_kid_is_the_key_id_by_default(configured, path) -> None:
    client, _ = configured()
    token = sign(client, path)
    assert header_of(token)[1]["kid"] == key_id_of(client)
    pyjwt_verify(token, certificate_of(client).public_key(), (JWT_ALG if "jwt" in path else JWS_ALG)[""])


@pytest.mark.parametrize("path", SIGN_PATHS)
def test_no_kid_when_switched_off(configured, path) -> None:
    client, _ = configured(sign_include_keyid=False, sign_kid_prefix="mosip#")
    extra = {"additionalHeaders": {"kid": "asked-for", "typ": "JWT"}} if path.endswith("/v2") else {}
    token = sign(client, path, **extra)
    assert "kid" not in header_of(token)[1]
    pyjwt_verify(token, certificate_of(client).public_key(), (JWT_ALG if "jwt" in path else JWS_ALG)[""])


def test_no_cose_kid_when_switched_off(configured) -> None:
    client, _ = configured(sign_include_keyid=False)
    signed = cose_sign(client, protectedHeader={"kid": True}, unprotectedHeader={"kid": True})
    assert 4 not in cose_protected(signed)
    independent_verify(signed, certificate_of(client))


@pytest.mark.parametrize("ref", ["", P256, K1, ED])
@pytest.mark.parametrize("path", SIGN_PATHS)
def test_the_configured_prefix(configured, path, ref) -> None:
    client, _ = configured(sign_kid_prefix="did:web:mosip.example#")
    if ref:
        generate_sign_key(client, APP, ref)
    token = sign(client, path, ref)
    assert header_of(token)[1]["kid"] == "did:web:mosip.example#" + key_id_of(client, ref)
    pyjwt_verify(token, certificate_of(client, ref).public_key(), (JWT_ALG if "jwt" in path else JWS_ALG)[ref])


@pytest.mark.parametrize("path", ["/jwtSign/v2", "/jwsSign/v2"])
@pytest.mark.parametrize(("asked", "prefix"), [("req", "req#"), ("req#", "req#"), ("", "#")])
def test_a_request_kid_replaces_the_configured_prefix(configured, path, asked, prefix) -> None:
    client, _ = configured(sign_kid_prefix="configured#")
    token = sign(client, path, additionalHeaders={"kid": asked})
    assert header_of(token)[1]["kid"] == prefix + key_id_of(client)


@pytest.mark.parametrize("path", SIGN_PATHS)
@pytest.mark.parametrize(("payload", "prefix"), [(PAYLOAD, "https://issuer.example/mosip#"), (NO_ISSUER, "#")])
def test_payload_issuer_prefix(configured, path, payload, prefix) -> None:
    client, _ = configured(sign_kid_prefix="payload_issuer")
    token = sign(client, path, payload=payload)
    assert header_of(token)[1]["kid"] == prefix + key_id_of(client)
    pyjwt_verify(token, certificate_of(client).public_key(), (JWT_ALG if "jwt" in path else JWS_ALG)[""],
                 payload)


def test_payload_issuer_of_a_payload_that_is_not_json(configured) -> None:
    client, _ = configured(sign_kid_prefix="PAYLOAD_ISSUER")
    token = sign(client, "/jwsSign", payload=b"raw bytes, not JSON", validateJson=False)
    assert header_of(token)[1]["kid"] == "#" + key_id_of(client)


@pytest.mark.parametrize(("overrides", "prefix"), [
    ({"sign_kid_prefix": "mosip#"}, "mosip#"),
    ({"sign_kid_prefix": "PAYLOAD_ISSUER"}, "https://issuer.example/mosip#"),
])
def test_cose_uses_the_same_settings(configured, overrides, prefix) -> None:
    client, _ = configured(**overrides)
    signed = cose_sign(client, protectedHeader={"kid": True})
    assert cose_protected(signed)[4] == (prefix + key_id_of(client)).encode()
    independent_verify(signed, certificate_of(client))


# -- includeCertificateChain: our own hierarchy, else TRUST_CA, else the leaf ------------------------


@pytest.fixture(scope="module")
def outside_ca() -> tuple[Issued, Issued]:
    """A root and an issuing CA outside our hierarchy (RSA-2048, SHA-256)."""
    root = make_certificate("Outside Root CA (signing options)", now=START)
    issuing = make_certificate("Outside Issuing CA (signing options)", issuer=root, now=START)
    return root, issuing


def upload_to_trust_ca(client, *cas: Issued, domain: str = "TRUST_CA") -> None:
    for ca in cas:
        assert ok(post(client, "/uploadCACertificate", {"certificateData": ca.pem, "partnerDomain": domain}))


def certify_outside(client, ref: str, issuer: Issued, *, ca: bool = False) -> x509.Certificate:
    """/generateCSR for (APP, ref), the outside CA certifies the key (keeping the key's subject, so
    what it issued stays issued), /uploadCertificate."""
    response = ok(post(client, "/generateCSR", {"applicationId": APP, "referenceId": ref}))
    csr = x509.load_pem_x509_csr(response["certSignRequest"].encode())
    assert csr.is_signature_valid
    builder = (
        x509.CertificateBuilder()
        .subject_name(certificate_of(client, ref).subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(START - timedelta(hours=1))
        .not_valid_after(START + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False),
            critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.private_key.public_key()), critical=False)
    )
    certificate = builder.sign(issuer.private_key, hashes.SHA256())
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    request = {"applicationId": APP, "referenceId": ref, "certificateData": pem}
    assert ok(post(client, "/uploadCertificate", request))["status"] == "Upload Success"
    assert certificate_of(client, ref) == certificate
    return certificate


@pytest.mark.parametrize("ref", [P256, K1])
@pytest.mark.parametrize("path", ["/jwtSign/v2", "/jwsSign/v2"])
def test_a_key_an_outside_ca_certified_gets_the_trust_ca_chain(configured, outside_ca, path, ref) -> None:
    client, _ = configured()
    root, issuing = outside_ca
    generate_sign_key(client, APP, ref)
    leaf = certify_outside(client, ref, issuing)

    # Without the outside CA in TRUST_CA: the leaf alone.
    assert x5c(sign(client, path, ref, includeCertificateChain=True)) == [leaf]
    upload_to_trust_ca(client, root, issuing)
    token = sign(client, path, ref, includeCertificateChain=True, includeCertHash=True)
    chain = x5c(token)
    assert chain == [leaf, issuing.certificate, root.certificate]
    assert validated(chain[:-1], root.certificate) == chain
    pyjwt_verify(token, chain[0].public_key(), (JWT_ALG if "jwt" in path else JWS_ALG)[ref])
    result = ok(post(client, "/jwtVerify/v2", {"jwtSignatureData": token, "validateTrust": True,
                                               "domain": "TRUST_CA"}))
    assert result == {"signatureValid": True, "message": "Validation Successful", "trustValid": "TRUST_CERT_PATH_VALID"}


def test_the_cose_chain_follows_the_same_rule(configured, outside_ca) -> None:
    client, _ = configured()
    root, issuing = outside_ca
    generate_sign_key(client, APP, P256)
    leaf = certify_outside(client, P256, issuing)
    # One certificate: a bare bstr at label 33 (A.4).
    alone = cose_sign(client, P256, protectedHeader={"includeCertificateChain": True})
    assert cose_protected(alone)[33] == leaf.public_bytes(serialization.Encoding.DER)
    upload_to_trust_ca(client, root, issuing)
    signed = cose_sign(client, P256, protectedHeader={"includeCertificateChain": True, "kid": True})
    chain = [x509.load_der_x509_certificate(der) for der in cose_protected(signed)[33]]
    assert chain == [leaf, issuing.certificate, root.certificate]
    assert validated(chain[:-1], root.certificate) == chain
    independent_verify(signed, leaf)


def test_our_own_hierarchy_comes_first(configured, outside_ca) -> None:
    """A key of ours issued by our ROOT keeps its own chain, whatever TRUST_CA holds."""
    client, _ = configured()
    upload_to_trust_ca(client, *outside_ca)
    generate_sign_key(client, APP, P256)
    root = ok(client.get(f"{API}/getCertificate", query_string={"applicationId": "ROOT", "referenceId": ""}))
    root_certificate = x509.load_pem_x509_certificate(root["certificate"].encode())
    for path in ("/jwtSign/v2", "/jwsSign/v2"):
        chain = x5c(sign(client, path, P256, includeCertificateChain=True))
        assert chain == [certificate_of(client, P256), root_certificate]
        assert validated(chain[:-1], root_certificate) == chain


def test_a_key_below_a_master_key_an_outside_ca_certified(configured, outside_ca) -> None:
    """The Ed25519 key is issued by the application's master key, which an outside CA certified:
    our master certificate sits between it and the outside CA (the reference would give the leaf alone)."""
    client, _ = configured()
    root, issuing = outside_ca
    upload_to_trust_ca(client, root, issuing)
    leaf = generate_sign_key(client, APP, ED)
    master = certify_outside(client, "", issuing, ca=True)
    for path in ("/jwtSign/v2", "/jwsSign/v2"):
        token = sign(client, path, ED, includeCertificateChain=True)
        chain = x5c(token)
        assert chain == [leaf, master, issuing.certificate, root.certificate]
        assert validated(chain[:-1], root.certificate) == chain
        pyjwt_verify(token, leaf.public_key(), "EdDSA")


def test_the_trust_domain_is_a_setting(configured, outside_ca) -> None:
    root, issuing = outside_ca
    client, _ = configured(partner_trust_domain="AUTH")
    generate_sign_key(client, APP, P256)
    leaf = certify_outside(client, P256, issuing)
    upload_to_trust_ca(client, root, issuing)  # TRUST_CA: not the configured domain
    assert x5c(sign(client, "/jwtSign/v2", P256, includeCertificateChain=True)) == [leaf]
    upload_to_trust_ca(client, root, issuing, domain="AUTH")
    chain = x5c(sign(client, "/jwtSign/v2", P256, includeCertificateChain=True))
    assert chain == [leaf, issuing.certificate, root.certificate]


def test_v1_include_certificate_is_still_the_leaf(configured, outside_ca) -> None:
    client, _ = configured()
    root, issuing = outside_ca
    upload_to_trust_ca(client, root, issuing)
    generate_sign_key(client, APP, P256)
    leaf = certify_outside(client, P256, issuing)
    for path in ("/jwtSign", "/jwsSign"):
        assert x5c(sign(client, path, P256, includeCertificate=True)) == [leaf]
    assert json.loads(base64.urlsafe_b64decode(sign(client, "/jwtSign", P256).split(".")[1] + "==")) == json.loads(
        PAYLOAD)


# -- Ed25519 signing keys in the keystore (the embedded keystores too; the HSM: test_ed25519_hsm.py) ----


def test_ed25519_keys_in_the_memory_keystore(configured) -> None:
    client, container = configured(ed25519_in_keystore=True)
    certificate = generate_sign_key(client, APP, ED)
    root = ok(client.get(f"{API}/getCertificate", query_string={"applicationId": "ROOT", "referenceId": ""}))
    root_certificate = x509.load_pem_x509_certificate(root["certificate"].encode())
    certificate.verify_directly_issued_by(root_certificate)
    with container.uow_factory()() as uow:
        (alias,) = uow.keys.aliases_for(KeyTuple(APP, ED))
        assert uow.keys.stored_key(alias.alias) is None
    assert alias.alias in container.keystore().aliases()
    token = sign(client, "/jwtSign/v2", ED, includeCertificateChain=True)
    assert x5c(token) == [certificate, root_certificate]
    pyjwt_verify(token, certificate.public_key(), "EdDSA")
