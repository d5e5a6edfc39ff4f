"""Batch operations through Flask's test client (issue 18, ADR 0024): /encrypt/batch, /decrypt/batch,
/jwtSign/batch. Each item is answered on its own ({index, response | errors}); the envelope errs only for a
malformed batch; at most KEYMANAGER_BATCH_MAX_ITEMS items; the single endpoints' roles; one audit record per item."""
from __future__ import annotations

from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from domain.audit import SUCCESS, verify_chain
from domain.identifiers import thumbprint_hex
from entrypoints.http.app import create_app
from entrypoints.http.roles import ROLE_TABLE
from entrypoints.settings import Settings
from tests.support.http_api import (
    API,
    APP,
    PAYLOAD,
    PLAINTEXT,
    b64url,
    b64url_decode,
    certificate,
    crypto_request,
    error,
    generate_sign_key,
    ok,
    post,
    sign_request,
)
from tests.support.oidc import bearer

ML = "ML_DSA_65_SIGN"


def items_of(response) -> list[dict[str, Any]]:
    answer = ok(response)
    assert list(answer) == ["items"]
    assert [item["index"] for item in answer["items"]] == list(range(len(answer["items"])))
    for item in answer["items"]:
        assert set(item) == {"index", "response", "errors"}
        assert (item["response"] is None) != (item["errors"] is None)
    return answer["items"]


def codes(item: dict[str, Any]) -> list[str]:
    return [e["errorCode"] for e in item["errors"]]


def test_encrypt_then_decrypt_a_batch_with_bad_items_among_good_ones(client) -> None:
    plaintexts = [PLAINTEXT + bytes([i]) for i in range(5)]
    requests: list[Any] = [crypto_request(p) for p in plaintexts]
    requests.insert(1, {"applicationId": " ", "data": b64url(b"x")})  # a field fails validation
    requests.insert(3, crypto_request(b"x", app="NO_SUCH_APP"))  # no key policy
    requests.insert(5, "not an object")
    encrypted = items_of(post(client, "/encrypt/batch", {"items": requests}))
    assert len(encrypted) == 8
    assert codes(encrypted[1]) == ["KER-KMS-005"] and "applicationId" in encrypted[1]["errors"][0]["message"]
    assert codes(encrypted[3]) == ["KER-KMS-002"]
    assert codes(encrypted[5]) == ["KER-KMS-005"]
    good = [item["response"]["data"] for item in encrypted if item["errors"] is None]
    assert len(good) == 5

    wires = [crypto_request(data) for data in good]
    wires.insert(2, crypto_request(b64url(b"VER_R2" + b64url_decode(good[0])[6:-3])))  # truncated envelope
    wires.insert(4, crypto_request("***"))  # not base64
    decrypted = items_of(post(client, "/decrypt/batch", {"items": wires}))
    assert [b64url_decode(item["response"]["data"]) for item in decrypted if item["errors"] is None] == plaintexts
    assert decrypted[2]["errors"] and decrypted[4]["errors"]
    # and each item equals what the single endpoint answers
    single = ok(post(client, "/decrypt", crypto_request(good[0])))
    assert decrypted[0]["response"] == single


def test_jwt_sign_batch_every_key_kind_and_errors(client) -> None:
    generate_sign_key(client, APP, "EC_SECP256R1_SIGN")
    ml_certificate = generate_sign_key(client, APP, ML)
    requests = [
        sign_request(None, None, includePayload=True),
        sign_request(APP, "EC_SECP256R1_SIGN", includePayload=True),
        sign_request(APP, ML, includePayload=True),
        sign_request(APP, "ED25519_SIGN"),  # not made: KER-KMS-012
        sign_request(APP, ML, data=b"not json"),  # KER-JWS-103
        {"applicationId": APP},  # dataToSign missing
    ]
    signed = items_of(post(client, "/jwtSign/batch", {"items": requests}))
    assert all(item["errors"] is None for item in signed[:3])
    assert codes(signed[3]) == ["KER-KMS-012"]
    assert signed[4]["errors"] and signed[5]["errors"]
    kernel = certificate(client, "KERNEL", "SIGN")
    assert jwt.api_jws.PyJWS().decode(signed[0]["response"]["jwtSignedData"], kernel.public_key(),
                                      algorithms=["RS256"]) == PAYLOAD
    token = signed[2]["response"]["jwtSignedData"]
    head, middle, signature = token.split(".")
    ml_certificate.public_key().verify(b64url_decode(signature), f"{head}.{middle}".encode())
    verified = ok(post(client, "/jwtVerify", {"jwtSignatureData": token, "applicationId": APP, "referenceId": ML}))
    assert verified["signatureValid"] is True


@pytest.mark.parametrize("path", ["/encrypt/batch", "/decrypt/batch", "/jwtSign/batch"])
def test_a_malformed_batch_fails_as_a_whole(client, path) -> None:
    for request in ({}, {"items": None}, {"items": []}, {"items": "x"}, {"items": {"a": 1}}):
        error(post(client, path, request), "KER-KMS-005")


@pytest.fixture
def small_client(memory_settings: Settings, container):
    return create_app(memory_settings.with_overrides(batch_max_items=3), container).test_client()


def test_the_size_bound(client, small_client) -> None:
    four = {"items": [crypto_request(b"x")] * 4}
    body = error(post(small_client, "/encrypt/batch", four), "KER-KMS-005")
    assert "at most 3" in body["errors"][0]["message"]
    assert len(items_of(post(small_client, "/encrypt/batch", {"items": [crypto_request(b"x")] * 3}))) == 3
    # the default bound: 100
    assert len(items_of(post(client, "/jwtSign/batch", {"items": [sign_request(None, None)] * 100}))) == 100
    error(post(client, "/jwtSign/batch", {"items": [sign_request(None, None)] * 101}), "KER-KMS-005")


def test_the_batches_use_the_single_endpoints_role_keys(app) -> None:
    from entrypoints.http.routes import endpoints_of

    declared = {e.path: e for e in endpoints_of(app).values()}
    for batch, single in (("/encrypt/batch", "/encrypt"), ("/decrypt/batch", "/decrypt"),
                          ("/jwtSign/batch", "/jwtSign")):
        assert declared[batch].role == declared[single].role in ROLE_TABLE
        assert declared[batch].blocking and declared[batch].audit == f"{declared[single].audit}/batch"


def test_roles_over_oidc(oidc_app, idp) -> None:
    client = oidc_app.test_client()
    allowed = sorted(ROLE_TABLE["postencrypt"])[0]
    refused = idp.token(roles=["SOME_OTHER_ROLE"])
    response = client.post(f"{API}/encrypt/batch", json={"request": {"items": [crypto_request(b"x")]}},
                           headers=bearer(refused))
    assert response.status_code == 403
    response = client.post(f"{API}/encrypt/batch", json={"request": {"items": [crypto_request(b"x")]}},
                           headers=bearer(idp.token(roles=[allowed])))
    assert response.status_code == 200 and response.get_json()["errors"] is None


def test_one_audit_record_per_item(client, container) -> None:
    before = len(list(container.audit_log().records()))
    wire = ok(post(client, "/encrypt", crypto_request(PLAINTEXT)))["data"]
    wire_thumbprint = b64url_decode(wire)[6:38].hex().upper()
    after_single = list(container.audit_log().records())
    items_of(post(client, "/decrypt/batch", {"items": [
        crypto_request(wire), crypto_request(b64url(b"garbage")), {"applicationId": ""}, crypto_request(wire),
    ]}))
    records = list(container.audit_log().records())
    batch_records = [r for r in records[len(after_single):] if r.operation == "decrypt/batch"]
    assert [r.outcome for r in batch_records] == [SUCCESS, batch_records[1].outcome, "KER-KMS-005", SUCCESS]
    assert batch_records[1].outcome != SUCCESS
    assert batch_records[0].thumbprint == batch_records[3].thumbprint == wire_thumbprint
    assert [r.app_id for r in batch_records] == ["REGISTRATION", "REGISTRATION", "", "REGISTRATION"]
    assert all(r.subject == "dev" for r in batch_records)
    assert verify_chain(records).intact and len(records) > before
    # a malformed batch: one record, its error
    error(post(client, "/encrypt/batch", {"items": []}), "KER-KMS-005")
    last = list(container.audit_log().records())[-1]
    assert last.operation == "encrypt/batch" and last.outcome == "KER-KMS-005"


def test_signing_batch_records_name_the_signing_key(client, container) -> None:
    items_of(post(client, "/jwtSign/batch", {"items": [sign_request(None, None), sign_request(APP, ML)]}))
    records = [r for r in container.audit_log().records() if r.operation == "jwtSign/batch"]
    assert [r.outcome for r in records] == [SUCCESS, "KER-KMS-012"]
    kernel: x509.Certificate = certificate(client, "KERNEL", "SIGN")
    assert records[0].thumbprint == thumbprint_hex(kernel.public_bytes(Encoding.DER))
    assert records[0].key_alias


def test_an_audit_failure_withholds_the_whole_batch(client, container, monkeypatch) -> None:
    writer = container.audit_writer()

    def broken(events):
        raise RuntimeError("store down")

    monkeypatch.setattr(writer, "submit", broken)
    response = post(client, "/encrypt/batch", {"items": [crypto_request(b"x")] * 2})
    assert response.status_code == 503
    assert response.get_json()["errors"][0]["errorCode"] == "KER-KMS-500"
    assert b"VER_R2" not in response.data and "response" not in (response.get_json() or {}) or \
        response.get_json()["response"] is None


def test_the_openapi_document_describes_the_items(app) -> None:
    document = app.test_client().get(f"{API}/v3/api-docs").get_json()
    for path in ("/encrypt/batch", "/decrypt/batch", "/jwtSign/batch"):
        operation = document["paths"][API + path]["post"]
        assert operation["x-audited"] == path.lstrip("/")
    schemas = document["components"]["schemas"]
    batch = next(s for name, s in schemas.items() if name.startswith("EncryptBatchRequest"))
    assert batch["properties"]["items"]["type"] == "array"
    assert "$ref" in batch["properties"]["items"]["items"]
