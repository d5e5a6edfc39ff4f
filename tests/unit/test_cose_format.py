"""The COSE / CWT format layer (application/crypto/cbor.py, cose.py, cose_headers.py, cwt_claims.py)
against mosip-cose-pdf.md: the byte-exact vectors V1-V3 of A.11 (RFC 8032 key, fixed clock and key id),
the HashMap order of A.4, the claim rules of A.6 and the reading rules of A.7. Output is also read back
with cbor2 and python-cwt, never only with our own reader.
"""
from __future__ import annotations

import base64
import json

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from application.crypto import cbor, cose, cose_headers, cwt_claims
from domain.errors import KeyManagerError, ValidationError
from domain.identifiers import key_id
from tests.support.cose import independent_sign, independent_verify, rfc8032_key, spec_vectors

V2_UNI_IDENT = "0123456789ABCDEF0123456789ABCDEF01234567"
V3_NOW_MS = 1767225600123  # 2026-01-01T00:00:00.123Z


@pytest.fixture(scope="module")
def vectors() -> dict[str, str]:
    return spec_vectors()


def facts(vectors, kid: bytes | None = None, chain: list[bytes] | None = None) -> cose_headers.SigningFacts:
    certificate = bytes.fromhex(vectors["certificate"])
    return cose_headers.SigningFacts(certificate, lambda: chain or [certificate], kid)


def sign(vectors, protected=None, unprotected=None, payload: bytes | None = None, *, cwt: bool = False,
         kid: bytes | None = None) -> str:
    p, u = cose_headers.build_headers(protected, unprotected, -8, facts(vectors, kid))
    data = payload if payload is not None else base64.urlsafe_b64decode(vectors["payload"] + "=")
    return cose.sign1(p, u, data, rfc8032_key().sign, cwt=cwt).hex()


def code_of(raised: pytest.ExceptionInfo) -> str:
    return raised.value.code


# -- A.11 known answers ---------------------------------------------------------------------------


def test_v1_cose_sign1_without_header_directives(vectors) -> None:
    payload = base64.urlsafe_b64decode(vectors["payload"] + "=")
    assert cose.sig_structure(bytes.fromhex("a10127"), payload).hex() == vectors["v1_sig_structure"]
    assert sign(vectors) == vectors["v1"]


def test_v2_header_directives_kid_and_certificate(vectors) -> None:
    kid = key_id(V2_UNI_IDENT)
    assert kid == "fnTOdbXy-JJAszr_8kHiCfmPe4kgrxtXKVfIsDBDDXo"
    protected = {"kid": True, "crit": "kid, alg", "cty": "application/cbor", "includeCertificateHash": True,
                 "certificateUrl": "https://test.com/cert", "custom1": "v1"}
    unprotected = {"includeCertificate": True, "partial-iv": "abc"}
    assert sign(vectors, protected, unprotected, kid=kid.encode()) == vectors["v2"]


def test_v3_cwt_claims_and_message(vectors) -> None:
    request = cwt_claims.ClaimsRequest(
        issuer="mosip.io", subject="test case", audience=None, not_before_days=0, expire_days=365,
        cwt_id="abc", claim169_hex="a1016161", payload_b64=vectors["payload"],
    )
    claims = cwt_claims.build_claims(request, V3_NOW_MS)
    encoded = cbor.encode(claims)
    assert encoded.hex() == vectors["v3_claims"]
    assert sign(vectors, payload=encoded, cwt=True) == vectors["v3"]
    # and what python-cwt reads in it
    _, _, payload = independent_verify(vectors["v3"], rfc8032_key().public_key(), cwt_tag=True)
    assert cbor2.loads(payload) == {1: "mosip.io", 2: "test case", 4: 1798761600, 5: 1767225600, 6: 1767225600,
                                    7: b"abc", 169: bytes.fromhex("a1016161"), "module": "keymanager",
                                    "purpose": "test case"}


def test_the_vectors_read_back_and_verify_with_our_reader(vectors) -> None:
    public = rfc8032_key().public_key()
    v2 = cose.read_cose_sign1(bytes.fromhex(vectors["v2"]))
    assert cose.verify(v2, public) is True
    assert cose.label(v2.unprotected, cose.X5CHAIN) == bytes.fromhex(vectors["certificate"])
    v3 = cose.read_cwt(bytes.fromhex(vectors["v3"]))
    assert cose.verify(v3, public) is True
    assert cwt_claims.read_claims(v3.payload)[cwt_claims.EXP] == 1798761600


# -- A.4 headers ------------------------------------------------------------------------------------


def test_custom_headers_come_in_java_hash_map_order(vectors) -> None:
    keys = ["zeta", "alpha", "mid", "x-custom", "additional Testheader", "additional Testheader2"]
    expected = ["zeta", "additional Testheader2", "alpha", "mid", "additional Testheader", "x-custom"]
    assert cose_headers.java_hash_map_order(keys) == expected
    protected, _ = cose_headers.build_headers({k: 1 for k in keys}, None, -8, facts(vectors))
    assert list(protected) == [1, *expected]


def test_java_string_hash_matches_java() -> None:
    # Values of "...".hashCode() as Java prints them (signed), here unsigned.
    known = {"": 0, "a": 97, "hello": 99162322, "polygenelubricants": -2147483648, "\U0001f600": 1772899}
    for text, java in known.items():
        assert cose_headers.java_string_hash(text) == java & 0xFFFFFFFF, text


def test_java_hash_map_order_grows_the_table_past_twelve_keys() -> None:
    keys = [f"k{i}" for i in range(13)]
    ordered = cose_headers.java_hash_map_order(keys)
    buckets = [(cose_headers.java_string_hash(k) ^ (cose_headers.java_string_hash(k) >> 16)) & 31 for k in ordered]
    assert buckets == sorted(buckets) and sorted(ordered) == sorted(keys)


def test_label_order_and_the_directives(vectors) -> None:
    chain = [b"leaf", b"issuer", b"root"]
    protected, unprotected = cose_headers.build_headers(
        {"custom": [1, {"b": None}], "kid": False, "iv": "\u00e9", "certificateUrl": "u", "includeCertificateHash": True,
         "includeCertificateChain": True, "content-type": "ignored-by-cty", "cty": "c", "crit": " a ,b,,a ",
         "alg": "none", "x5c": "x", "x5t#S256": "y", "partialIV": "p", "content": "q", "partial-iv": "not-used"},
        {"includeCertificate": "yes", "other": 1.5},
        -7, cose_headers.SigningFacts(b"leaf", lambda: chain, b"KID"),
    )
    assert list(protected.items()) == [
        (1, -7), (2, ["a", "b"]), (3, "c"), (33, chain), (34, __import__("hashlib").sha256(b"leaf").digest()),
        (35, "u"), (5, "\u00e9".encode()), ("custom", [1, {"b": None}]), (4, b"KID"),
    ]
    # a non-Boolean includeCertificate is ignored; a float stays a float64
    assert unprotected == {"other": 1.5}
    assert cbor.encode(unprotected).hex() == "a1656f74686572fb3ff8000000000000"


def test_a_one_certificate_chain_is_a_byte_string(vectors) -> None:
    protected, _ = cose_headers.build_headers({"includeCertificateChain": True}, None, -8, facts(vectors))
    assert protected[33] == bytes.fromhex(vectors["certificate"])


def test_unprotected_filtering(vectors) -> None:
    f = facts(vectors, b"K")
    # protected asks for the certificate: only the two certificate keys leave the unprotected map
    _, unprotected = cose_headers.build_headers(
        {"includeCertificate": True}, {"includeCertificateChain": True, "includeCertificateHash": True}, -8, f)
    assert list(unprotected) == [34]
    # otherwise every key that is true in the protected map leaves it
    protected, unprotected = cose_headers.build_headers(
        {"includeCertificateHash": True, "x": True}, {"includeCertificateHash": True, "x": True, "y": True}, -8, f)
    assert list(protected) == [1, 34, "x"] and unprotected == {"y": True}
    # kid goes where the key "kid" is, whatever its value; the protected map wins
    protected, unprotected = cose_headers.build_headers({"a": 1}, {"kid": None}, -8, f)
    assert 4 not in protected and unprotected == {4: b"K"}
    protected, unprotected = cose_headers.build_headers({"kid": "x"}, {"kid": True}, -8, f)
    assert protected[4] == b"K" and 4 not in unprotected
    # no kid when the service writes none
    protected, _ = cose_headers.build_headers({"kid": True}, None, -8, facts(vectors, None))
    assert protected == {1: -8}
    # empty maps: the algorithm only, and an empty unprotected map
    assert cose_headers.build_headers({}, {}, -257, f) == ({1: -257}, {})


@pytest.mark.parametrize("key", ["crit", "cty", "content-type", "certificateUrl", "iv", "partial-iv"])
@pytest.mark.parametrize("value", [1, True, ["a"], {"a": 1}])
def test_non_string_directives_are_the_callers_mistake(vectors, key, value) -> None:
    with pytest.raises(ValidationError) as raised:
        cose_headers.build_headers({key: value}, None, -8, facts(vectors))
    assert raised.value.code == "KER-KMS-005"
    assert raised.value.messages == [f"request.protectedHeader.{key} must be a string"]


def test_crit_in_the_unprotected_header_is_refused_as_the_reference_does(vectors) -> None:
    with pytest.raises(KeyManagerError) as raised:
        cose_headers.build_headers(None, {"crit": "a"}, -8, facts(vectors))
    assert code_of(raised) == "KER-CRY-003"
    # an empty crit list writes nothing, so nothing to refuse
    assert cose_headers.build_headers(None, {"crit": " , "}, -8, facts(vectors))[1] == {}


# -- CBOR writing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    (0, "00"), (23, "17"), (24, "1818"), (-1, "20"), (-257, "390100"), (2**31, "1a80000000"),
    (2**32 - 1, "1affffffff"), (2**32, "1b0000000100000000"), (2**64 - 1, "1bffffffffffffffff"),
    (2**64, "c249010000000000000000"), (-(2**64) - 1, "c349010000000000000000"),
    (1.0, "fb3ff0000000000000"), (float("nan"), "fb7ff8000000000000"), (True, "f5"), (None, "f6"),
    ("\ud800x", "623f78"), (b"", "40"), ({"b": 1, "a": [2]}, "a2616201616181" + "02"),
])
def test_cbor_writing_is_minimal_ordered_and_float64(value, expected) -> None:
    # 2^31..2^32-1 take the 4-byte head (the reference's library writes 8 bytes; both decode the same)
    assert cbor.encode(value).hex() == expected
    if not isinstance(value, float):
        assert cbor2.loads(bytes.fromhex(expected)) == (value.replace("\ud800", "?") if isinstance(value, str)
                                                         else value)


def test_cbor_writing_refuses_deep_nesting_and_foreign_types() -> None:
    deep: list = []
    for _ in range(cbor.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(cbor.CborError):
        cbor.encode(deep)
    with pytest.raises(cbor.CborError):
        cbor.encode({1: object()})


# -- A.6 claims -------------------------------------------------------------------------------------


def claims_of(payload: object = None, **fields) -> dict:
    raw = json.dumps(payload).encode() if payload is not None else None
    request = dict(issuer=None, subject=None, audience=None, not_before_days=0, expire_days=180, cwt_id=None,
                   claim169_hex=None, payload_b64=base64.urlsafe_b64encode(raw).decode().rstrip("=") if raw else None)
    request.update(fields)
    return cwt_claims.build_claims(cwt_claims.ClaimsRequest(**request), V3_NOW_MS)


def test_payload_fields_become_claims() -> None:
    claims = claims_of({"169": "x", "-1": 1, "+5": "+30", "name": "30", "n": {"x": "30"}, "f": 1.5, "z": None,
                        "big": 2**70, "list": ["1"], "iss": "skipped", "cti": "skipped", "7": "skipped", "x": "3 0"})
    assert claims[169] == "x" and claims[-1] == 1
    assert claims[5] == 30  # "+5" is label 5: it overwrites nbf in place, "+30" is an int
    assert claims["name"] == 30 and claims["n"] == {"x": "30"} and claims["list"] == ["1"]
    assert claims["f"] == 1.5 and claims["z"] is None and claims["big"] == 2**70 and claims["x"] == "3 0"
    assert "iss" not in claims and "cti" not in claims and 7 not in claims and 1 not in claims
    assert list(claims)[:3] == [4, 5, 6]
    assert cbor2.loads(cbor.encode(claims)) == claims


def test_a_reused_label_keeps_its_place() -> None:
    claims = claims_of({"01": "other"}, issuer="mosip.io", subject="s")
    assert list(claims.items())[:2] == [(1, "other"), (2, "s")]


def test_registered_claims_and_defaults() -> None:
    claims = claims_of({"a": 1}, issuer="  ", subject="", audience="aud", cwt_id="uuid", not_before_days=1,
                       expire_days=2)
    assert 1 not in claims and 2 not in claims and claims[3] == "aud"
    assert claims[6] == V3_NOW_MS // 1000
    assert claims[5] == claims[6] + 86400 and claims[4] == claims[5] + 2 * 86400
    assert len(claims[7]) == 36 and claims[7].count(b"-") == 4  # a random UUID string
    assert 7 not in claims_of({"a": 1}, cwt_id=" ")
    assert list(claims_of(["not", "an", "object"])) == [4, 5, 6]


@pytest.mark.parametrize("fields, code", [
    ({"not_before_days": -1}, "KER-SIG-117"),
    ({"expire_days": -1, "claim169_hex": "zz"}, "KER-SIG-117"),  # days are checked first
    ({"claim169_hex": "abc"}, "KER-SIG-114"),
    ({"claim169_hex": "zz", "payload_b64": "bm90IGpzb24"}, "KER-SIG-114"),
    ({"payload_b64": "bm90IGpzb24"}, "KER-JWS-103"),  # "not json"
    ({"payload_b64": "TmFO"}, "KER-JWS-103"),  # NaN is not JSON
    ({"payload_b64": "e30+"}, "KER-CRY-003"),  # not base64url
])
def test_claim_errors(fields, code) -> None:
    with pytest.raises(KeyManagerError) as raised:
        claims_of(None, **fields)
    assert code_of(raised) == code


@pytest.mark.parametrize("payload", [{"10": "nonce"}, {"01": 5}, {"+4": "soon"}, {"+6": -1}, {"03": ["a"]}])
def test_registered_claims_of_the_wrong_type_are_refused(payload) -> None:
    with pytest.raises(KeyManagerError) as raised:
        claims_of(payload)
    assert code_of(raised) == "KER-CRY-003"


def test_claim169_hex_of_either_case_with_blanks() -> None:
    claims = claims_of(None, claim169_hex=spec_vectors()["claim169"][:10] + " \n" + "ab")
    assert claims[169] == bytes.fromhex(spec_vectors()["claim169"][:10] + "ab")


def test_java_parse_int() -> None:
    assert [cwt_claims.java_parse_int(t) for t in ("169", "-1", "+5", "01", "2147483647", "\u0661\u0662")] == [
        169, -1, 5, 1, 2147483647, 12]
    assert [cwt_claims.java_parse_int(t) for t in ("", "+", " 5", "5 ", "1_0", "2147483648", "1e3", "0x1")] == [
        None] * 8


# -- A.7 reading ------------------------------------------------------------------------------------


def test_reading_tags(vectors) -> None:
    claim169 = bytes.fromhex(vectors["claim169"])
    with pytest.raises(KeyManagerError) as raised:
        cose.read_cose_sign1(claim169)  # a CWT is no COSE_Sign1
    assert code_of(raised) == "KER-CWS-112"
    assert cose.read_cwt(claim169).protected == {1: -257}
    cases = [
        (cose.read_cwt, bytes.fromhex(vectors["v1"]), "KER-CWS-111"),
        (cose.read_cwt, claim169.replace(b"\xd8\x3d\xd2", b"\xd8\x3d\xd3", 1), "KER-CWS-110"),  # 61(19(...))
        (cose.read_cwt, claim169.replace(b"\xd8\x3d\xd2", b"\xd8\x3d\xd1", 1), "KER-CWS-112"),  # 61(17(...))
        (cose.read_cwt, b"\xd8\x3d" + claim169[3:], "KER-CWS-110"),  # 61([...]), untagged inside
        (cose.read_cwt, claim169[3:], "KER-CWS-111"),  # untagged
        (cose.read_cose_sign1, bytes.fromhex(vectors["v1"])[1:], "KER-CWS-112"),  # untagged
        (cose.read_cose_sign1, bytes.fromhex(vectors["v1"])[:-5], "KER-CWS-110"),  # truncated
        (cose.read_cose_sign1, bytes.fromhex("d28343a10127a040"), "KER-CWS-110"),  # three parts
        (cose.read_cose_sign1, bytes.fromhex("d28443a10127a0f640"), "KER-CWS-110"),  # detached payload
        (cose.read_cose_sign1, bytes.fromhex("d2844101a0404840"), "KER-CWS-110"),  # protected not a map
        (cose.read_cose_sign1, bytes.fromhex("d28440404040"), "KER-CWS-110"),  # unprotected not a map
        (cose.read_cose_sign1, b"", "KER-CWS-110"),
    ]
    for read, data, code in cases:
        with pytest.raises(KeyManagerError) as raised:
            read(data)
        assert code_of(raised) == code, data.hex()
    # an empty protected bstr is an empty map; trailing bytes after the first item are ignored, as in the reference
    assert cose.read_cose_sign1(bytes.fromhex("d28440a04040")).protected == {}
    assert cose.read_cose_sign1(bytes.fromhex(vectors["v1"]) + b"\x00").payload


def test_hex_decoding() -> None:
    assert cose.hex_decode("AbCd\n 01") == bytes.fromhex("abcd01")
    for bad in ("abc", "invalid-hex-data", "0g"):
        with pytest.raises(KeyManagerError) as raised:
            cose.hex_decode(bad)
        assert code_of(raised) == "KER-SIG-114"


def test_signature_checks_follow_the_protected_alg() -> None:
    rsa_key = rsa.generate_private_key(65537, 2048)
    p256 = ec.generate_private_key(ec.SECP256R1())
    for key, algorithm in ((rsa_key, "RS256"), (rsa_key, "PS256"), (p256, "ES256"), (rfc8032_key(), "EdDSA")):
        message = cose.read_cose_sign1(bytes.fromhex(independent_sign(key, algorithm, b"data")))
        assert cose.verify(message, key.public_key()) is True, algorithm
        tampered = cose.Sign1(message.protected_bytes, message.protected, {}, b"datA", message.signature)
        assert cose.verify(tampered, key.public_key()) is False, algorithm
    rsa_message = cose.read_cose_sign1(bytes.fromhex(independent_sign(rsa_key, "RS256", b"data")))
    unreadable = [
        (rsa_message, p256.public_key()),  # wrong key type
        (cose.Sign1(cbor.encode({1: -7}), {1: -7}, {}, b"data", rsa_message.signature), rsa_key.public_key()),
        (cose.Sign1(cbor.encode({1: -258}), {1: -258}, {}, b"data", rsa_message.signature), rsa_key.public_key()),
        (cose.Sign1(cbor.encode({1: "RS256"}), {1: "RS256"}, {}, b"data", rsa_message.signature),
         rsa_key.public_key()),
        (cose.Sign1(b"", {}, {}, b"data", rsa_message.signature), rsa_key.public_key()),  # no alg
        (cose.Sign1(cbor.encode({True: -257}), {True: -257}, {}, b"data", rsa_message.signature),
         rsa_key.public_key()),  # true is no label 1
        (cose.Sign1(rsa_message.protected_bytes, rsa_message.protected, {}, b"data", rsa_message.signature[:-1]),
         rsa_key.public_key()),  # bad length
    ]
    for message, public in unreadable:
        with pytest.raises(KeyManagerError) as raised:
            cose.verify(message, public)
        assert code_of(raised) == "KER-CWS-110"


def test_reading_claims() -> None:
    def read(value: object) -> dict:
        return cwt_claims.read_claims(cbor2.dumps(value))

    assert read({4: 10.9, "x": 1}) == {4: 10.9, "x": 1}
    for payload, code in ((b"", "KER-CRY-003"), (b"\xff", "KER-SIG-114"), (cbor2.dumps([1]), "KER-CRY-003"),
                          (cbor2.dumps({}), "KER-JWS-103"), (cbor2.dumps({1: 2}), "KER-CRY-003"),
                          (cbor2.dumps({4: -1}), "KER-CRY-003"), (cbor2.dumps({4: float("inf")}), "KER-CRY-003"),
                          (cbor2.dumps({7: "text"}), "KER-CRY-003"), (cbor2.dumps({1.5: 1}), "KER-CRY-003"),
                          (cbor2.dumps({True: 1}), "KER-CRY-003")):
        with pytest.raises(KeyManagerError) as raised:
            cwt_claims.read_claims(payload)
        assert code_of(raised) == code, payload


def test_time_and_expected_claims() -> None:
    claims = {1: "mosip.io", 4: 2000, 5: 1000}
    cwt_claims.check_time(claims, 1_000_000)  # nbf == now is valid
    cwt_claims.check_time(claims, 1_999_999)
    for now, code in ((999_999, "KER-SIG-115"), (2_000_000, "KER-SIG-116")):
        with pytest.raises(KeyManagerError) as raised:
            cwt_claims.check_time(claims, now)
        assert code_of(raised) == code
    cwt_claims.check_expected(claims, 1, "mosip.io", "Issuer")
    with pytest.raises(KeyManagerError) as raised:
        cwt_claims.check_expected(claims, 2, "x", "Subject")
    assert (raised.value.code, raised.value.message) == ("KER-SIG-118", "Subject Claim not found in the CWT Token.")
    with pytest.raises(KeyManagerError) as raised:
        cwt_claims.check_expected(claims, 1, "other", "Issuer")
    assert (raised.value.code, raised.value.message) == (
        "KER-SIG-119", "Provided Issuer Claim value not matched with CWT.")
