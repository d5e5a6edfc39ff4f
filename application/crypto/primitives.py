"""The cryptographic primitives the use cases are made of, from `cryptography`.

One small helper module (a library, not a port): AES-256-GCM, RSA-OAEP with
SHA-256/MGF1-SHA-256, RSA key generation and (de)serialisation.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.ports.keystore import KeyAlgorithm, SignatureScheme
from domain.errors import Errors, KeyManagerError

AES_KEY_BYTES = 32
RSA_KEY_BITS = 2048
RSA_PUBLIC_EXPONENT = 65537

OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def random_bytes(length: int) -> bytes:
    return os.urandom(length)


def new_aes_key() -> bytes:
    return os.urandom(AES_KEY_BYTES)


def aes_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes | None) -> bytes:
    """ct ‖ tag(16). Any nonce length (the reference uses 12 and 16 bytes)."""
    return AESGCM(key).encrypt(nonce, plaintext, aad or None)


def aes_gcm_decrypt(key: bytes, nonce: bytes, ciphertext_and_tag: bytes, aad: bytes | None) -> bytes:
    if len(key) not in (16, 24, 32):
        raise KeyManagerError(Errors.INVALID_KEY)
    if not nonce:
        raise KeyManagerError(Errors.INVALID_DATA_LENGTH)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext_and_tag, aad or None)
    except InvalidTag:
        raise KeyManagerError(Errors.CORRUPTED_DATA) from None


def require_whole_blocks(data: bytes) -> None:
    """AES without padding takes whole 16-byte blocks (KER-FSE-002 otherwise), in every keystore."""
    if not data or len(data) % 16:
        raise KeyManagerError(Errors.INVALID_DATA_LENGTH)


def aes_ecb(key: bytes, data: bytes, *, encrypt: bool) -> bytes:
    """AES-ECB without padding over whole blocks: only ever applied to random keys and
    hashes (the reference's ZK key wrap and derivation), never to data."""
    if len(key) not in (16, 24, 32):
        raise KeyManagerError(Errors.INVALID_KEY)
    require_whole_blocks(data)
    cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - single random blocks, see above
    operation = cipher.encryptor() if encrypt else cipher.decryptor()
    return operation.update(data) + operation.finalize()


def generate_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=RSA_KEY_BITS)


#: Where new RSA-2048 private keys come from: ``generate_rsa_key`` (a fresh key per call) in the
#: service; the test suite passes a source of pre-generated keys (distinct within a container).
RsaKeySource = Callable[[], rsa.RSAPrivateKey]


#: Private keys the software keystores and database-held signing keys use.
SoftwareKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
# -- ML-DSA and batch (issue 18) --: keys held wrapped in the database, ML-DSA-65 signing keys too (ADR 0024);
# no keystore holds an ML-DSA key, so SoftwareKey (what keystores hold) stays without it.
DatabaseKey = SoftwareKey | mldsa.MLDSA65PrivateKey
_CURVES = {KeyAlgorithm.EC_P256: ec.SECP256R1, KeyAlgorithm.EC_SECP256K1: ec.SECP256K1}


def generate_key(algorithm: KeyAlgorithm, rsa_key_source: RsaKeySource = generate_rsa_key) -> SoftwareKey:
    algorithm = KeyAlgorithm(algorithm)
    if algorithm is KeyAlgorithm.RSA_2048:
        return rsa_key_source()
    if algorithm is KeyAlgorithm.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(_CURVES[algorithm]())


def sign_with(private_key: DatabaseKey, data: bytes, scheme: SignatureScheme) -> bytes:
    """Raises ValueError when the scheme does not fit the key."""
    if isinstance(private_key, rsa.RSAPrivateKey) and scheme is SignatureScheme.RSA_PKCS1_SHA256:
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(private_key, rsa.RSAPrivateKey) and scheme is SignatureScheme.RSA_PSS_SHA256:
        return private_key.sign(data, PSS_SHA256, hashes.SHA256())
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and scheme is SignatureScheme.ECDSA_SHA256:
        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(private_key, ed25519.Ed25519PrivateKey) and scheme is SignatureScheme.ED25519:
        return private_key.sign(data)
    if isinstance(private_key, mldsa.MLDSA65PrivateKey) and scheme is SignatureScheme.ML_DSA_65:
        return private_key.sign(data)  # pure ML-DSA, empty context (FIPS 204 §5.2; RFC 9964)
    raise ValueError(f"signature scheme {scheme.value} does not fit this key")


PSS_SHA256 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def rsa_oaep_encrypt(public_key: rsa.RSAPublicKey, data: bytes) -> bytes:
    return public_key.encrypt(data, OAEP_SHA256)


def rsa_oaep_decrypt(private_key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    """Raises ValueError when the block does not decrypt (wrong key, bad padding)."""
    return private_key.decrypt(data, OAEP_SHA256)


def private_key_to_pkcs8(private_key: DatabaseKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def private_key_from_pkcs8(der: bytes, *, generated_by_us: bool) -> SoftwareKey:
    """Parse a PKCS#8 RSA, EC or Ed25519 key. Keys we generated ourselves, recovered
    from an authenticated (AES-GCM) wrap, skip OpenSSL's slow RSA consistency check."""
    try:
        key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=generated_by_us)
    except (ValueError, TypeError):
        raise KeyManagerError(Errors.INVALID_KEY) from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
        raise KeyManagerError(Errors.INVALID_KEY)
    return key


# -- ML-DSA and batch (issue 18) --
def signing_key_from_pkcs8(der: bytes) -> DatabaseKey:
    """A database-held signing key: an ML-DSA-65 key (PKCS#8, seed form), or what private_key_from_pkcs8 takes."""
    try:
        key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyManagerError(Errors.INVALID_KEY) from None
    if isinstance(key, mldsa.MLDSA65PrivateKey):
        return key
    return private_key_from_pkcs8(der, generated_by_us=True)


def public_key_from_spki(der: bytes) -> PublicKey:
    key = serialization.load_der_public_key(der)
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)):
        raise KeyManagerError(Errors.INVALID_KEY)
    return key


PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


def public_key_to_spki(public_key: PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


#: AES key lengths a keystore takes from elsewhere (keystore import); the keys it makes are 32 bytes.
AES_KEY_LENGTHS = (16, 24, 32)
#: EC curves a keystore holds (EC signing keys).
IMPORTABLE_CURVES = (ec.SECP256R1.name, ec.SECP256K1.name)


def key_pair_for_import(
    private_key_pkcs8: bytes, certificate_chain: Sequence[bytes]
) -> tuple[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, bytes]:
    """The private key and the leaf certificate (DER) of a key pair made elsewhere (keystore
    import), checked: RSA of 2048 bits or more, or EC on P-256 / secp256k1, and a leaf that
    certifies that key. ValueError says what is wrong, never anything of the key."""
    try:
        key = serialization.load_der_private_key(private_key_pkcs8, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("the private key is not a readable PKCS#8 key") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < RSA_KEY_BITS:
            raise ValueError(f"an RSA key of {key.key_size} bits (at least {RSA_KEY_BITS} needed)")
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in IMPORTABLE_CURVES:
            raise ValueError(f"an EC key on {key.curve.name} (only {', '.join(IMPORTABLE_CURVES)})")
    else:
        raise ValueError(f"a {type(key).__name__.removeprefix('_').replace('PrivateKey', '')} key (only RSA and EC)")
    if not certificate_chain:
        raise ValueError("no certificate")
    try:
        certificate = x509.load_der_x509_certificate(bytes(certificate_chain[0]))
    except ValueError:
        raise ValueError("the certificate is not a DER X.509 certificate") from None
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(*spki) != public_key_to_spki(key.public_key()):
        raise ValueError("the certificate is not the key's")
    return key, bytes(certificate_chain[0])
