"""Trust paths over a partner domain's CAs (application/partner_trust/store.py), the
per-domain cache, the p7b writers (application/crypto/x509.py) and the trust store's plain
rules (domain/partner_trust.py)."""
from __future__ import annotations

import base64
import re
from collections.abc import Hashable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from application.crypto.x509 import certificate_pem, pkcs7_der, pkcs7_pem
from application.partner_trust.store import PartnerTrustStore, TrustedCa, build_path
from application.support.ttl_cache import TtlLruCache
from domain.errors import KeyManagerError
from domain.partner_trust import (
    DEFAULT_PARTNER_DOMAINS,
    INTERMEDIATE_CA,
    ROOT_CA,
    CaCertificatePage,
    CaCertificateQuery,
    CaCertificateRecord,
    PartnerCertificateRecord,
    PartnerTrustPolicy,
    add_months,
    partner_domain,
)
from tests.support.pki import Issued, cached_key, make_certificate, make_hierarchy

UTC = UTC
NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def record_of(issued: Issued | x509.Certificate, *, domain: str = "AUTH", cert_id: str | None = None,
              created_at: datetime = NOW) -> CaCertificateRecord:
    certificate = issued.certificate if isinstance(issued, Issued) else issued
    subject = certificate.subject.rfc4514_string()
    return CaCertificateRecord(
        cert_id=cert_id or subject[:36],
        subject=subject,
        issuer=certificate.issuer.rfc4514_string(),
        issuer_id="",
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        certificate_pem=certificate_pem(certificate),
        thumbprint=certificate.fingerprint(hashes.SHA1()).hex(),
        serial_number=str(certificate.serial_number),
        domain=domain,
        ca_type=ROOT_CA if certificate.issuer == certificate.subject else INTERMEDIATE_CA,
        created_at=created_at,
    )


def trusted(*issued: Issued) -> list[TrustedCa]:
    return [TrustedCa.of(record_of(i), i.certificate) for i in issued]


def certs(*issued: Issued) -> list[x509.Certificate]:
    return [i.certificate for i in issued]


@pytest.fixture(scope="module")
def hierarchy():
    return make_hierarchy(NOW, prefix="Paths")


def ca_certificate(common_name: str, *, issuer: Issued | None, basic_constraints: x509.BasicConstraints | None,
                   basic_critical: bool = True, key_usage: x509.KeyUsage | None = None,
                   not_before: datetime = NOW - timedelta(days=1),
                   not_after: datetime = NOW + timedelta(days=1000)) -> Issued:
    """A certificate with exactly the extensions asked for (plus SKI/AKI)."""
    key = cached_key(common_name)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if basic_constraints is not None:
        builder = builder.add_extension(basic_constraints, critical=basic_critical)
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key()), critical=False)
    return Issued(builder.sign(issuer.private_key if issuer else key, hashes.SHA256()), key)


def usage(*, key_cert_sign: bool, crl_sign: bool = True) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=key_cert_sign,
                         crl_sign=crl_sign, encipher_only=False, decipher_only=False)


# -- build_path ----------------------------------------------------------------------------------


def test_root_intermediate_leaf_builds_leaf_first(hierarchy) -> None:
    h = hierarchy
    path = build_path(h.partner.certificate, trusted(h.root, h.intermediate), NOW)
    assert path == certs(h.partner, h.intermediate, h.root)
    # the CAs' order in the store does not matter
    assert build_path(h.partner.certificate, trusted(h.intermediate, h.root), NOW) == path


def test_an_intermediate_builds_to_its_root(hierarchy) -> None:
    h = hierarchy
    assert build_path(h.intermediate.certificate, trusted(h.root), NOW) == certs(h.intermediate, h.root)


def test_a_leaf_of_an_unknown_root_has_no_path(hierarchy) -> None:
    stranger_root = make_certificate("Paths Stranger Root", now=NOW)
    stranger_leaf = make_certificate("Paths Stranger Leaf", issuer=stranger_root, now=NOW, ca=False)
    assert build_path(stranger_leaf.certificate, trusted(hierarchy.root, hierarchy.intermediate), NOW) is None
    # an intermediate alone (no anchor) is not enough
    assert build_path(hierarchy.partner.certificate, trusted(hierarchy.intermediate), NOW) is None
    assert build_path(hierarchy.partner.certificate, [], NOW) is None


def test_a_root_whose_basic_constraints_are_not_critical_is_an_anchor() -> None:
    root = ca_certificate("Paths Lax Root", issuer=None, basic_constraints=x509.BasicConstraints(ca=True, path_length=None),
                          basic_critical=False, key_usage=usage(key_cert_sign=True))
    assert root.certificate.extensions.get_extension_for_class(x509.BasicConstraints).critical is False
    intermediate = make_certificate("Paths Lax Intermediate", issuer=root, now=NOW)
    leaf = make_certificate("Paths Lax Leaf", issuer=intermediate, now=NOW, ca=False)
    assert build_path(leaf.certificate, trusted(root, intermediate), NOW) == certs(leaf, intermediate, root)


def test_an_intermediate_whose_basic_constraints_are_not_critical_works(hierarchy) -> None:
    intermediate = ca_certificate("Paths Lax Int", issuer=hierarchy.root,
                                  basic_constraints=x509.BasicConstraints(ca=True, path_length=None),
                                  basic_critical=False)
    leaf = make_certificate("Paths Lax Int Leaf", issuer=intermediate, now=NOW, ca=False)
    assert build_path(leaf.certificate, trusted(hierarchy.root, intermediate), NOW) == certs(
        leaf, intermediate, hierarchy.root)


def test_an_intermediate_without_key_usage_works(hierarchy) -> None:
    intermediate = make_certificate("Paths NoKU Intermediate", issuer=hierarchy.root, now=NOW, key_usage=False)
    assert x509.KeyUsage not in {e.value.__class__ for e in intermediate.certificate.extensions}
    leaf = make_certificate("Paths NoKU Leaf", issuer=intermediate, now=NOW, ca=False)
    assert build_path(leaf.certificate, trusted(hierarchy.root, intermediate), NOW) == certs(
        leaf, intermediate, hierarchy.root)


def test_an_intermediate_whose_key_usage_lacks_key_cert_sign_has_no_path(hierarchy) -> None:
    intermediate = ca_certificate("Paths NoCertSign Int", issuer=hierarchy.root,
                                  basic_constraints=x509.BasicConstraints(ca=True, path_length=None),
                                  key_usage=usage(key_cert_sign=False))
    leaf = make_certificate("Paths NoCertSign Leaf", issuer=intermediate, now=NOW, ca=False)
    assert build_path(leaf.certificate, trusted(hierarchy.root, intermediate), NOW) is None
    # the same intermediate with keyCertSign works: only that bit differs
    fixed = ca_certificate("Paths NoCertSign Int", issuer=hierarchy.root,
                           basic_constraints=x509.BasicConstraints(ca=True, path_length=None),
                           key_usage=usage(key_cert_sign=True))
    assert build_path(leaf.certificate, trusted(hierarchy.root, fixed), NOW) == certs(leaf, fixed, hierarchy.root)


def test_an_intermediate_that_is_not_a_ca_has_no_path(hierarchy) -> None:
    not_ca = make_certificate("Paths NotCA Int", issuer=hierarchy.root, now=NOW, ca=False, key_usage=False)
    constraints = not_ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is False
    leaf = make_certificate("Paths NotCA Leaf", issuer=not_ca, now=NOW, ca=False)
    assert build_path(leaf.certificate, trusted(hierarchy.root, not_ca), NOW) is None


def test_an_intermediate_without_basic_constraints_has_no_path(hierarchy) -> None:
    bare = ca_certificate("Paths NoBC Int", issuer=hierarchy.root, basic_constraints=None,
                          key_usage=usage(key_cert_sign=True))
    leaf = make_certificate("Paths NoBC Leaf", issuer=bare, now=NOW, ca=False)
    assert build_path(leaf.certificate, trusted(hierarchy.root, bare), NOW) is None


def test_an_intermediate_with_a_1024_bit_key_has_no_path(hierarchy) -> None:
    weak = make_certificate("Paths Weak Int", issuer=hierarchy.root, now=NOW, key_size=1024)
    leaf = make_certificate("Paths Weak Leaf", issuer=weak, now=NOW, ca=False)
    assert build_path(leaf.certificate, trusted(hierarchy.root, weak), NOW) is None


def test_an_expired_intermediate_has_no_path_but_had_one_before() -> None:
    root = make_certificate("Paths Old Root", now=NOW, not_before=NOW - timedelta(days=3 * 365))
    expired = make_certificate("Paths Expired Int", issuer=root, now=NOW,
                               not_before=NOW - timedelta(days=2 * 365), not_after=NOW - timedelta(days=10))
    leaf = make_certificate("Paths Expired Leaf", issuer=expired, now=NOW, ca=False,
                            not_before=NOW - timedelta(days=365), not_after=NOW + timedelta(days=365))
    cas = trusted(root, expired)
    assert not cas[1].record.valid_at(NOW)
    assert build_path(leaf.certificate, cas, NOW) is None
    earlier = NOW - timedelta(days=100)
    assert cas[1].record.valid_at(earlier)
    assert build_path(leaf.certificate, cas, earlier) == certs(leaf, expired, root)


def test_the_record_dates_decide_which_cas_count(hierarchy) -> None:
    # a CA row whose stored dates do not cover `at` is left out, whatever its certificate says
    h = hierarchy
    stale = TrustedCa(replace(record_of(h.intermediate), not_after=NOW - timedelta(seconds=1)),
                      h.intermediate.certificate, False)
    assert build_path(h.partner.certificate, trusted(h.root) + [stale], NOW) is None
    stale_root = TrustedCa(replace(record_of(h.root), not_before=NOW + timedelta(seconds=1)), h.root.certificate, True)
    assert build_path(h.partner.certificate, [stale_root] + trusted(h.intermediate), NOW) is None


def test_extra_intermediates_supply_a_missing_intermediate(hierarchy) -> None:
    h = hierarchy
    assert build_path(h.partner.certificate, trusted(h.root), NOW) is None
    assert build_path(h.partner.certificate, trusted(h.root), NOW,
                      extra_intermediates=[h.intermediate.certificate]) == certs(h.partner, h.intermediate, h.root)


def test_a_leaf_with_no_extensions_at_all_builds(hierarchy) -> None:
    bare = make_certificate("Paths Bare Partner", issuer=hierarchy.intermediate, now=NOW, ca=False, extensions=False)
    assert bare.certificate.version == x509.Version.v3
    assert len(bare.certificate.extensions) == 0
    assert build_path(bare.certificate, trusted(hierarchy.root, hierarchy.intermediate), NOW) == [
        bare.certificate, hierarchy.intermediate.certificate, hierarchy.root.certificate]


def test_a_leaf_that_is_itself_a_ca_builds(hierarchy) -> None:
    partner_ca = make_certificate("Paths Partner CA", issuer=hierarchy.intermediate, now=NOW, ca=True)
    assert build_path(partner_ca.certificate, trusted(hierarchy.root, hierarchy.intermediate), NOW) == certs(
        partner_ca, hierarchy.intermediate, hierarchy.root)


def test_an_expired_leaf_has_no_path(hierarchy) -> None:
    old = make_certificate("Paths Old Leaf", issuer=hierarchy.intermediate, now=NOW, ca=False,
                           not_after=NOW - timedelta(days=1))
    assert build_path(old.certificate, trusted(hierarchy.root, hierarchy.intermediate), NOW) is None


# -- PartnerTrustStore ---------------------------------------------------------------------------


class FakeTrust:
    """Only what PartnerTrustStore reads: the stamp and the domain's rows, with call counts."""

    def __init__(self, rows: dict[str, list[CaCertificateRecord]]) -> None:
        self.rows = rows
        self.stamps: dict[str, Hashable] = {domain: 0 for domain in rows}
        self.loads: dict[str, int] = {domain: 0 for domain in rows}

    def domain_stamp(self, domain: str) -> Hashable:
        return self.stamps.get(domain, "empty")

    def ca_certificates(self, domain: str) -> list[CaCertificateRecord]:
        self.loads[domain] = self.loads.get(domain, 0) + 1
        return list(self.rows.get(domain, []))


def new_store() -> PartnerTrustStore:
    return PartnerTrustStore(TtlLruCache(max_entries=16, ttl_seconds=3600))


def test_cas_are_loaded_once_while_the_stamp_is_the_same(hierarchy) -> None:
    h = hierarchy
    fake = FakeTrust({"AUTH": [record_of(h.root), record_of(h.intermediate)]})
    store = new_store()
    first = store.cas(fake, "AUTH")  # type: ignore[arg-type]
    assert [ca.certificate for ca in first] == certs(h.root, h.intermediate)
    assert [ca.self_signed for ca in first] == [True, False]
    assert fake.loads["AUTH"] == 1
    second = store.cas(fake, "AUTH")  # type: ignore[arg-type]
    assert second == first
    assert fake.loads["AUTH"] == 1
    second.clear()  # the caller's list is a copy
    assert store.cas(fake, "AUTH") == first  # type: ignore[arg-type]
    assert fake.loads["AUTH"] == 1


def test_a_changed_stamp_reloads(hierarchy) -> None:
    h = hierarchy
    fake = FakeTrust({"AUTH": [record_of(h.root)]})
    store = new_store()
    assert len(store.cas(fake, "AUTH")) == 1  # type: ignore[arg-type]
    fake.rows["AUTH"].append(record_of(h.intermediate))
    assert len(store.cas(fake, "AUTH")) == 1  # type: ignore[arg-type]  # same stamp: the cached view
    fake.stamps["AUTH"] = (2, "2025-01-15 09:31:00", None, "zz")
    assert [ca.certificate for ca in store.cas(fake, "AUTH")] == certs(h.root, h.intermediate)  # type: ignore[arg-type]
    assert fake.loads["AUTH"] == 2
    store.cas(fake, "AUTH")  # type: ignore[arg-type]
    assert fake.loads["AUTH"] == 2


def test_invalidate_reloads(hierarchy) -> None:
    fake = FakeTrust({"AUTH": [record_of(hierarchy.root)], "FTM": [record_of(hierarchy.root, domain="FTM")]})
    store = new_store()
    store.cas(fake, "AUTH")  # type: ignore[arg-type]
    store.cas(fake, "FTM")  # type: ignore[arg-type]
    store.invalidate("AUTH")
    store.cas(fake, "AUTH")  # type: ignore[arg-type]
    store.cas(fake, "FTM")  # type: ignore[arg-type]
    assert fake.loads == {"AUTH": 2, "FTM": 1}  # per domain
    store.invalidate("NOBODY")  # unknown domains are fine


def test_an_unparsable_stored_pem_is_skipped(hierarchy) -> None:
    h = hierarchy
    good = record_of(h.root)
    rows = [
        replace(good, cert_id="garbage", certificate_pem="not a certificate"),
        good,
        replace(good, cert_id="bad-body",
                certificate_pem="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        replace(good, cert_id="non-ascii", certificate_pem="-----BEGIN CERTIFICATE-----\nÉÉÉÉ\n-----END CERTIFICATE-----"),
        replace(good, cert_id="empty", certificate_pem=""),
        record_of(h.intermediate),
    ]
    fake = FakeTrust({"AUTH": rows})
    loaded = new_store().cas(fake, "AUTH")  # type: ignore[arg-type]
    assert [ca.record.cert_id for ca in loaded] == [good.cert_id, rows[-1].cert_id]
    assert [ca.certificate for ca in loaded] == certs(h.root, h.intermediate)


# -- pkcs7_der / pkcs7_pem -----------------------------------------------------------------------


def _certificates_in(der: bytes) -> list[bytes]:
    info = cms.ContentInfo.load(der)
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    return [choice.chosen.dump() for choice in signed["certificates"]]


def test_pkcs7_der_keeps_the_order(hierarchy) -> None:
    h = hierarchy
    leaf_first = [h.partner, h.intermediate, h.root]
    assert _certificates_in(pkcs7_der(certs(*leaf_first))) == [i.der for i in leaf_first]
    odd = [h.intermediate, h.root, h.partner]
    assert _certificates_in(pkcs7_der(certs(*odd))) == [i.der for i in odd]
    assert _certificates_in(pkcs7_der(certs(h.root))) == [h.root.der]


def test_pkcs7_der_is_a_degenerate_der_signed_data(hierarchy) -> None:
    der = pkcs7_der(certs(hierarchy.partner, hierarchy.root))
    info = cms.ContentInfo.load(der)
    signed = info["content"]
    assert signed["version"].native == "v1"
    assert len(signed["digest_algorithms"]) == 0
    assert len(signed["signer_infos"]) == 0
    assert signed["encap_content_info"]["content_type"].native == "data"
    assert signed["encap_content_info"]["content"].native is None
    # definite lengths throughout: re-encoding a one-certificate bundle changes nothing (with more, a
    # DER encoder would sort the SET OF certificates, which is what pkcs7_der deliberately does not do)
    single = pkcs7_der(certs(hierarchy.root))
    assert cms.ContentInfo.load(single).dump(force=True) == single


def test_pkcs7_der_of_no_certificates_is_a_valid_signed_data_without_certificates() -> None:
    der = pkcs7_der([])
    info = cms.ContentInfo.load(der)
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    assert signed["version"].native == "v1"
    assert signed["certificates"].native is None  # the optional field is absent
    assert len(signed["signer_infos"]) == 0
    assert info.dump(force=True) == der


def test_pkcs7_pem_layout(hierarchy) -> None:
    chain = certs(hierarchy.partner, hierarchy.intermediate, hierarchy.root)
    text = pkcs7_pem(chain)
    lines = text.split("\n")
    assert lines[0] == "-----BEGIN PKCS7-----"
    assert lines[-1] == "-----END PKCS7-----"
    assert not text.endswith("\n")
    assert "\r" not in text
    body = lines[1:-1]
    assert len(body) > 2
    assert all(len(line) == 64 for line in body[:-1])
    assert 0 < len(body[-1]) <= 64
    assert all(re.fullmatch(r"[A-Za-z0-9+/=]+", line) for line in body)
    assert base64.b64decode("".join(body), validate=True) == pkcs7_der(chain)


def test_pkcs7_pem_of_no_certificates() -> None:
    text = pkcs7_pem([])
    lines = text.split("\n")
    assert lines[0] == "-----BEGIN PKCS7-----" and lines[-1] == "-----END PKCS7-----"
    assert not text.endswith("\n")
    assert base64.b64decode("".join(lines[1:-1])) == pkcs7_der([])


# -- domain/partner_trust ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 1, 15), 1, date(2025, 2, 15)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),  # December -> next year
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2025, 1, 15), 12, date(2026, 1, 15)),
        (date(2025, 3, 31), 12, date(2026, 3, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 5, 31), 25, date(2027, 6, 30)),
        (date(2025, 5, 20), 0, date(2025, 5, 20)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 1, 10), -1, date(2024, 12, 10)),
        (date(2025, 1, 10), -13, date(2023, 12, 10)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    "value, allowed, expected",
    [
        ("AUTH", DEFAULT_PARTNER_DOMAINS, "AUTH"),
        ("auth", DEFAULT_PARTNER_DOMAINS, "AUTH"),
        ("Ftm", DEFAULT_PARTNER_DOMAINS, "FTM"),
        (" device ", DEFAULT_PARTNER_DOMAINS, "DEVICE"),
        ("trust_ca", DEFAULT_PARTNER_DOMAINS, "TRUST_CA"),
        ("DEVICE", ("auth", "Device"), "DEVICE"),  # configured in any case
    ],
)
def test_partner_domain_is_case_insensitive_and_upper_case(value: str, allowed: tuple[str, ...],
                                                           expected: str) -> None:
    assert partner_domain(value, allowed) == expected


@pytest.mark.parametrize("value", [None, "", "   ", "PMS", "AUTHX", "AU TH", "auth,ftm"])
def test_partner_domain_blank_or_unknown_is_pcm_011(value: str | None) -> None:
    with pytest.raises(KeyManagerError) as error:
        partner_domain(value, DEFAULT_PARTNER_DOMAINS)
    assert error.value.code == "KER-PCM-011"


def test_partner_domain_outside_a_narrower_configuration_is_pcm_011() -> None:
    with pytest.raises(KeyManagerError) as error:
        partner_domain("FTM", ("AUTH",))
    assert error.value.code == "KER-PCM-011"


@pytest.mark.parametrize(
    "years, grace, expected",
    [(1, 30, 335), (2, 30, 700), (1, 0, 365), (1, 365, 0), (0, 30, 315), (1, 400, 315)],
)
def test_partner_minimum_days(years: int, grace: int, expected: int) -> None:
    policy = PartnerTrustPolicy(certificate_duration_years=years, grace_days=grace)
    assert policy.partner_minimum_days == expected


def test_partner_trust_policy_defaults() -> None:
    policy = PartnerTrustPolicy()
    assert policy.partner_minimum_days == 335
    assert policy.domains == ("AUTH", "DEVICE", "FTM", "TRUST_CA")
    assert policy.ca_minimum_validity_months == 12


SAMPLE = CaCertificateRecord(
    cert_id="Auth-Root-A", subject="CN=Auth Root A,O=Acme_Labs,C=IN", issuer="CN=Issuer 100%,C=IN",
    issuer_id="Auth-Root-A", not_before=datetime(2021, 6, 15, 23, 59, 59, 999999, tzinfo=UTC),
    not_after=datetime(2026, 6, 15, 0, 0, tzinfo=UTC), certificate_pem="pem", thumbprint="ab" * 20,
    serial_number="1", domain="AUTH", ca_type=ROOT_CA, created_at=datetime(2025, 1, 10, 0, 0, tzinfo=UTC),
)


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({}, True),
        ({"domain": "AUTH"}, True),
        ({"domain": "FTM"}, False),
        ({"domain": "auth"}, False),
        ({"ca_type": ROOT_CA}, True),
        ({"ca_type": INTERMEDIATE_CA}, False),
        ({"cert_id": "root"}, True),
        ({"cert_id": "AUTH-ROOT-A"}, True),
        ({"cert_id": ""}, True),
        ({"cert_id": "root-b"}, False),
        ({"issued_to": "acme_labs"}, True),
        ({"issued_to": "ACME"}, True),
        ({"issued_to": "acme%"}, False),
        ({"issued_to": "issuer"}, False),
        ({"issued_by": "issuer 100%"}, True),
        ({"issued_by": "auth root"}, False),
        ({"valid_from": date(2021, 6, 15)}, True),
        ({"valid_from": date(2021, 6, 16)}, False),
        ({"valid_till": date(2026, 6, 15)}, True),
        ({"valid_till": date(2026, 6, 14)}, False),
        ({"uploaded": date(2025, 1, 10)}, True),
        ({"uploaded": date(2025, 1, 9)}, False),
        ({"expiring_between": (date(2026, 6, 15), date(2026, 6, 15))}, True),
        ({"expiring_between": (date(2026, 1, 1), date(2026, 6, 15))}, True),
        ({"expiring_between": (date(2026, 6, 15), date(2027, 1, 1))}, True),
        ({"expiring_between": (date(2026, 6, 16), date(2027, 1, 1))}, False),
        ({"expiring_between": (date(2026, 1, 1), date(2026, 6, 14))}, False),
        ({"excluded_thumbprints": frozenset({"ab" * 20})}, False),
        ({"excluded_thumbprints": frozenset({"cd" * 20})}, True),
        ({"domain": "AUTH", "ca_type": ROOT_CA, "issued_to": "auth", "uploaded": date(2025, 1, 10)}, True),
        ({"domain": "AUTH", "ca_type": ROOT_CA, "issued_to": "auth", "uploaded": date(2025, 1, 11)}, False),
    ],
)
def test_query_matches(filters: dict, expected: bool) -> None:
    assert CaCertificateQuery(**filters).matches(SAMPLE) is expected


def test_query_paging_and_defaults() -> None:
    query = CaCertificateQuery()
    assert (query.sort_by, query.descending, query.page_number, query.page_size, query.offset) == (
        "created_at", False, 1, 10, 0)
    assert CaCertificateQuery(page_number=3, page_size=7).offset == 14
    assert CaCertificatePage(0, []).records == []


def test_partner_record_defaults() -> None:
    record = PartnerCertificateRecord(
        cert_id="p", subject="CN=P", issuer="CN=I", issuer_id="i", not_before=NOW, not_after=NOW, domain="AUTH",
        certificate_pem="a", signed_certificate_pem="b", organization="O", thumbprint="t", serial_number="1",
        created_at=NOW)
    assert record.key_usage == ""


def test_record_valid_at_is_inclusive() -> None:
    assert SAMPLE.valid_at(SAMPLE.not_before)
    assert SAMPLE.valid_at(SAMPLE.not_after)
    assert not SAMPLE.valid_at(SAMPLE.not_before - timedelta(microseconds=1))
    assert not SAMPLE.valid_at(SAMPLE.not_after + timedelta(microseconds=1))
