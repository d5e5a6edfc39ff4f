"""Property-based fuzzing (hypothesis) of everything that parses caller input (issue 6): the envelope
splitter, base64 decoding, PEM/certificate parsing and the HTTP API's JSON schemas. No input may
lead to anything but a ``KeyManagerError`` in the domain and application parsers, and no request
to anything but a MOSIP envelope with a status other than 500.
"""
from __future__ import annotations

import base64
import json
import textwrap
from datetime import UTC
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.crypto.x509 import parse_pem_certificate
from domain import envelope
from domain.codec import b64_decode_lenient, b64url_decode
from domain.errors import KeyManagerError

API = "/v1/keymanager"
ENVELOPE_KEYS = {"id", "version", "responsetime", "metadata", "response", "errors"}
FAST = settings(max_examples=200, deadline=None)
HTTP = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KNOWN_APPS = ("REGISTRATION", "KERNEL", "ROOT", "IDA", "PMS", "RESIDENT", "")
KNOWN_REFS = ("", "SIGN", "10001_110011", "EC_SECP256R1_SIGN", "PUBLIC_KEY")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# -- strategies -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
base64ish = st.one_of(
    st.binary(max_size=64).map(b64url),
    st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
    st.text(alphabet="ABCDEFabcdef0123456789-_+/=% \n.", max_size=60),
)
fields = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=40), base64ish, json_values)
app_ids = st.one_of(st.sampled_from(KNOWN_APPS), st.text(max_size=30), fields)
ref_ids = st.one_of(st.sampled_from(KNOWN_REFS), st.text(max_size=30), fields)
timestamps = st.one_of(st.none(), st.just("2025-01-15T09:30:00.000Z"), st.text(max_size=30), fields)


def pem(label: str, body: bytes) -> str:
    lines = "\n".join(textwrap.wrap(base64.b64encode(body).decode(), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def _real_certificate_der() -> bytes:
    from datetime import datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())  # fast to make; the parser does not care
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fuzz")])
    start = datetime(2025, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


REAL_DER = _real_certificate_der()


def mutate(der: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    """A real certificate with some bytes replaced and possibly truncated: close to valid DER."""
    data = bytearray(der)
    for position, value in edits:
        data[position % len(data)] = value
    return bytes(data[: max(1, len(data) - cut)])


mutated_certificates = st.builds(
    mutate, st.just(REAL_DER), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
    st.one_of(st.just(0), st.integers(0, 400)),
).map(lambda der: pem("CERTIFICATE", der))

pem_like = st.one_of(
    mutated_certificates,
    st.builds(pem, st.sampled_from(["CERTIFICATE", "PUBLIC KEY", "X509 CERTIFICATE", "A"]), st.binary(max_size=300)),
    # a plausible DER prefix (SEQUENCE, long length) with random content
    st.builds(pem, st.just("CERTIFICATE"), st.binary(max_size=300).map(lambda b: b"\x30\x82" + b)),
    st.builds(lambda t: f"-----BEGIN CERTIFICATE-----{t}-----END CERTIFICATE-----", st.text(max_size=200)),
    st.text(max_size=200),
)


def wire_envelopes(thumbprint: bytes):
    """Byte strings shaped like /encrypt output, with the service's real thumbprint or a random one."""
    header = st.sampled_from([b"", b"VER_R2"])
    thumb = st.one_of(st.just(thumbprint), st.binary(min_size=32, max_size=32))
    return st.builds(
        lambda h, t, key, data: h + t + key + envelope.KEY_SPLITTER + data,
        header, thumb, st.one_of(st.binary(min_size=256, max_size=256), st.binary(max_size=300)),
        st.binary(max_size=120),
    ) | st.binary(max_size=400)


# -- pure parsers ---------------------------------------------------------------------------------


@FAST
@given(st.one_of(st.binary(max_size=600),
                 st.builds(lambda a, b: a + envelope.KEY_SPLITTER + b, st.binary(max_size=300), st.binary(max_size=80))))
def test_envelope_split_only_raises_keymanager_errors(wire: bytes) -> None:
    try:
        parsed = envelope.split(wire)
    except KeyManagerError:
        return
    assert parsed.encrypted_data  # (an empty key part after "VER_R2" is left to the decryption to refuse)
    for part in (envelope.split_ver_r2_data, envelope.split_appended_iv):
        try:
            part(parsed.encrypted_data)
        except KeyManagerError:
            pass


@FAST
@given(st.one_of(st.text(), st.text(alphabet="ABCabc012-_+/= \n\t\0é", max_size=40),
                 st.binary(max_size=50).map(lambda b: base64.b64encode(b).decode())))
def test_base64_decoders_only_raise_keymanager_errors(text: str) -> None:
    for decode in (b64_decode_lenient, b64url_decode):
        try:
            assert isinstance(decode(text), bytes)
        except KeyManagerError:
            pass


@FAST
@given(pem_like)
def test_pem_certificate_parsing_only_raises_keymanager_errors(text: str) -> None:
    try:
        parse_pem_certificate(text)
    except KeyManagerError as error:
        assert error.code == "KER-KMS-013"


# -- the HTTP API ---------------------------------------------------------------------------------


def assert_envelope(response) -> dict[str, Any]:
    assert response.status_code != 500, response.get_data(as_text=True)
    assert response.status_code < 500 or response.status_code == 503, response.status_code
    body = json.loads(response.get_data(as_text=True))
    assert isinstance(body, dict) and set(body) == ENVELOPE_KEYS, body
    if body["errors"] is not None:
        assert isinstance(body["errors"], list) and body["errors"], body
        for item in body["errors"]:
            assert set(item) == {"errorCode", "message"}, item
            assert isinstance(item["errorCode"], str) and isinstance(item["message"], str)
            assert "Traceback" not in item["message"]
    else:
        assert response.status_code == 200 and body["response"] is not None, body
    return body


def wrap(request: Any, **extra: Any) -> dict[str, Any]:
    return {"id": "mosip.fuzz", "version": "1.0", "requesttime": "2025-01-15T09:30:00.000Z", "metadata": {},
            "request": request, **extra}


POST_PATHS = ("/encrypt", "/decrypt", "/jwtSign", "/jwtSign/v2", "/jwsSign", "/jwsSign/v2", "/jwtVerify",
              "/jwtVerify/v2", "/signV2", "/signRawData", "/sign", "/validate", "/generateMasterKey/CERTIFICATE",
              "/generateECSignKey/CSR", "/generateCSR", "/uploadCertificate", "/uploadOtherDomainCertificate")


@HTTP
@given(path=st.sampled_from(POST_PATHS + ("/revokeKey",)), body=json_values, request=json_values,
       raw=st.binary(max_size=200), mode=st.sampled_from(["body", "request", "raw"]))
def test_any_json_body_or_request_gets_an_envelope(client, path: str, body: Any, request: Any, raw: bytes,
                                                   mode: str) -> None:
    method = client.put if path == "/revokeKey" else client.post
    if mode == "body":
        response = method(API + path, json=body)
    elif mode == "request":
        response = method(API + path, json=wrap(request))
    else:
        response = method(API + path, data=raw, content_type="application/json")
    assert_envelope(response)


@HTTP
@given(app=app_ids, ref=ref_ids, data=st.one_of(fields, base64ish), salt=st.one_of(st.none(), fields),
       aad=st.one_of(st.none(), fields), stamp=timestamps)
def test_encrypt_fields(client, app, ref, data, salt, aad, stamp) -> None:
    request = {"applicationId": app, "referenceId": ref, "timeStamp": stamp, "data": data, "salt": salt, "aad": aad}
    assert_envelope(client.post(API + "/encrypt", json=wrap(request)))


@pytest.fixture
def thumbprint(client) -> bytes:
    """The thumbprint of REGISTRATION/10001_110011's current key (made by an /encrypt)."""
    request = {"applicationId": "REGISTRATION", "referenceId": "10001_110011", "data": b64url(b"x")}
    data = client.post(API + "/encrypt", json=wrap(request)).get_json()["response"]["data"]
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))[6:38]


@HTTP
@given(st.data())
def test_decrypt_fields(client, thumbprint: bytes, data) -> None:
    wire = data.draw(st.one_of(wire_envelopes(thumbprint).map(b64url), base64ish, fields))
    request = {
        "applicationId": data.draw(st.one_of(st.just("REGISTRATION"), app_ids)),
        "referenceId": data.draw(st.one_of(st.just("10001_110011"), ref_ids)),
        "timeStamp": data.draw(timestamps),
        "data": wire,
        "salt": data.draw(st.one_of(st.none(), st.binary(min_size=1, max_size=16).map(b64url), fields)),
        "aad": data.draw(st.one_of(st.none(), st.binary(min_size=1, max_size=32).map(b64url), fields)),
    }
    assert_envelope(client.post(API + "/decrypt", json=wrap(request)))


@HTTP
@given(payload=st.one_of(json_values.map(lambda v: b64url(json.dumps(v).encode())), base64ish, fields),
       app=st.one_of(st.just("KERNEL"), app_ids), ref=st.one_of(st.just("SIGN"), ref_ids),
       flags=st.lists(st.one_of(st.none(), st.booleans(), fields), min_size=4, max_size=4),
       url=st.one_of(st.none(), st.text(max_size=30), fields))
def test_jwt_sign_fields(client, payload, app, ref, flags, url) -> None:
    request = {"dataToSign": payload, "applicationId": app, "referenceId": ref, "includePayload": flags[0],
               "includeCertificate": flags[1], "includeCertHash": flags[2], "certificateUrl": url,
               "validateJson": flags[3]}
    for path in ("/jwtSign", "/jwsSign"):
        assert_envelope(client.post(API + path, json=wrap(request)))


segments = st.binary(max_size=60).map(b64url)
jws_like = st.one_of(
    st.builds(lambda h, p, s: f"{h}.{p}.{s}", segments, segments, segments),
    st.builds(lambda h, p, s: f"{b64url(json.dumps(h).encode())}.{p}.{s}",
              st.dictionaries(st.sampled_from(["alg", "kid", "x5c", "x5t#S256", "b64", "crit", "typ"]), json_values,
                              max_size=4), segments, segments),
    st.text(max_size=80),
)


@HTTP
@given(token=st.one_of(jws_like, fields), actual=st.one_of(st.none(), segments, fields),
       app=st.one_of(st.just("KERNEL"), app_ids), ref=st.one_of(st.just("SIGN"), ref_ids),
       certificate=st.one_of(st.none(), pem_like, fields), trust=st.one_of(st.none(), st.booleans(), fields),
       domain_=st.one_of(st.none(), st.text(max_size=20), fields))
def test_jwt_verify_fields(client, token, actual, app, ref, certificate, trust, domain_) -> None:
    request = {"jwtSignatureData": token, "actualData": actual, "applicationId": app, "referenceId": ref,
               "certificateData": certificate, "validateTrust": trust, "domain": domain_}
    assert_envelope(client.post(API + "/jwtVerify", json=wrap(request)))


@HTTP
@given(object_type=st.one_of(st.sampled_from(["CERTIFICATE", "CSR", "certificate", ""]), st.text(max_size=30)),
       app=app_ids, ref=ref_ids, force=st.one_of(st.none(), st.just(False), fields),
       subject=st.dictionaries(st.sampled_from(["commonName", "organizationUnit", "organization", "location",
                                                "state", "country"]), st.one_of(st.text(max_size=70), fields),
                               max_size=6))
def test_generate_master_key_fields(client, object_type, app, ref, force, subject) -> None:
    if force is True:  # a fresh RSA key per example would only make the run slow
        force = False
    request = {"applicationId": app, "referenceId": ref, "force": force, **subject}
    assert_envelope(client.post(f"{API}/generateMasterKey/{quote(object_type, safe='')}", json=wrap(request)))


@HTTP
@given(app=app_ids, ref=ref_ids, disable=st.one_of(st.none(), st.booleans(), fields))
def test_revoke_key_fields(client, app, ref, disable) -> None:
    request = {"applicationId": app, "referenceId": ref, "disableAutoGen": disable}
    assert_envelope(client.put(API + "/revokeKey", json=wrap(request)))


@HTTP
@given(app=app_ids, ref=ref_ids, certificate=st.one_of(pem_like, fields))
def test_upload_other_domain_certificate_fields(client, app, ref, certificate) -> None:
    request = {"applicationId": app, "referenceId": ref, "certificateData": certificate}
    assert_envelope(client.post(API + "/uploadOtherDomainCertificate", json=wrap(request)))


@HTTP
@given(app=st.one_of(st.sampled_from(KNOWN_APPS), st.text(max_size=40)),
       ref=st.one_of(st.none(), st.sampled_from(KNOWN_REFS), st.text(max_size=40)),
       path=st.sampled_from(["/getCertificate", "/getAllCertificates", "/getCertificateChain"]))
def test_get_certificate_query(client, app, ref, path) -> None:
    query = {"applicationId": app} if ref is None else {"applicationId": app, "referenceId": ref}
    assert_envelope(client.get(API + path, query_string=query))
