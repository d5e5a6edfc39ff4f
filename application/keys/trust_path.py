"""The path from one of our certificates up to our ROOT, over our own keys only."""
from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from application.keys.hierarchy import KeyHierarchy
from application.ports.key_repository import KeyRepository
from domain.keys import KERNEL, ROOT, SIGN, KeyTuple

MAX_DEPTH = 4


def issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def own_trust_path(
    hierarchy: KeyHierarchy, keys: KeyRepository, app_id: str, leaf: x509.Certificate
) -> list[x509.Certificate]:
    """leaf, then its issuers among the application's master keys, KERNEL/SIGN and ROOT
    (any generation, so a path through a rotated key still builds). Stops where no
    issuer of ours signed the certificate (an other-domain certificate: the leaf alone)."""
    return _own_path(hierarchy, keys, app_id, leaf)[0]


def own_trust_path_to_root(
    hierarchy: KeyHierarchy, keys: KeyRepository, app_id: str, leaf: x509.Certificate
) -> tuple[list[x509.Certificate], bool]:
    """``own_trust_path``, and whether it ends at one of our ROOT certificates (the reference's
    trust anchors for its own keys, self-signed or certified by an outside CA); it stops short
    of ROOT where a key, or an issuer of it, was certified by an outside CA."""
    path, roots = _own_path(hierarchy, keys, app_id, leaf)
    return path, path[-1] in roots


def _own_path(
    hierarchy: KeyHierarchy, keys: KeyRepository, app_id: str, leaf: x509.Certificate
) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    candidates: list[x509.Certificate] = []
    roots: list[x509.Certificate] = []
    for key_tuple in (KeyTuple(app_id), KeyTuple(KERNEL, SIGN), KeyTuple(ROOT)):
        for alias in keys.aliases_for(key_tuple):
            certificate, _, _ = hierarchy.certificate_of(keys, alias)
            candidates.append(certificate)
            if key_tuple == KeyTuple(ROOT):
                roots.append(certificate)
    path = [leaf]
    current = leaf
    for _ in range(MAX_DEPTH):
        if current.issuer == current.subject and issued_by(current, current):
            break
        issuer = next((c for c in candidates if c.subject == current.issuer and issued_by(current, c)), None)
        if issuer is None or issuer in path:
            break
        path.append(issuer)
        current = issuer
    return path, roots
