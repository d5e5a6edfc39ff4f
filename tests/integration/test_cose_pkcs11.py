"""coseSign1 and cwtSign with the private key in a real PKCS#11 token (SoftHSM2): RSA (KERNEL/SIGN, the
master key) and EC keys (P-256, secp256k1) sign inside the token; python-cwt verifies the messages."""
from __future__ import annotations

import cbor2
import pytest
from cryptography import x509

from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.containers import init_master_keys
from tests.support.cose import independent_verify, sign1_parts
from tests.support.http_api import API, APP, K1, P256, b64url, generate_sign_key, ok, post

pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. 'pkcs11._pkcs11.OperationContext.__del__':pytest.PytestUnraisableExceptionWarning"
)
PAYLOAD = b'{"signed":"in the token"}'


def test_cose_signatures_made_in_the_token(make_container, pkcs11_settings: Settings, softhsm_token, clock) -> None:
    container = make_container(pkcs11_settings, clock)
    init_master_keys(container)
    client = create_app(pkcs11_settings, container).test_client()
    kernel = x509.load_pem_x509_certificate(ok(client.get(
        f"{API}/getCertificate", query_string={"applicationId": "KERNEL", "referenceId": "SIGN"}))["certificate"].encode())
    certificates = {ref: generate_sign_key(client, APP, ref) for ref in (P256, K1)}

    cases = [(None, None, None, kernel, -257), (None, None, "PS256", kernel, -37),
             (APP, P256, None, certificates[P256], -7), (APP, K1, None, certificates[K1], -47)]
    for app_id, ref_id, algorithm, certificate, alg in cases:
        request = {"applicationId": app_id, "referenceId": ref_id, "algorithm": algorithm}
        signed = ok(post(client, "/coseSign1", {"payload": b64url(PAYLOAD), **request}))["signedData"]
        protected, _, payload = independent_verify(signed, certificate.public_key())
        assert protected == {1: alg} and payload == PAYLOAD
        result = ok(post(client, "/coseVerify1", {"coseSignedData": signed, "applicationId": app_id,
                                                   "referenceId": ref_id}))
        assert result["signatureValid"] is True

        token = ok(post(client, "/cwtSign", {"claim169Payload": "a0", "issuer": "hsm", **request}))["signedData"]
        protected, _, claims = independent_verify(token, certificate.public_key(), cwt_tag=True)
        assert protected == {1: alg} and cbor2.loads(claims)[1] == "hsm"
        assert len(sign1_parts(token, (61, 18))[3]) == (256 if alg in (-257, -37) else 64)
