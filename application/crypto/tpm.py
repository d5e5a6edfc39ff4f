"""TPM 2.0 public areas as client-crypto clients send them: parsing only (no keys, no cryptography).

A client's TPM key arrives as a raw ``TPMT_PUBLIC`` (TPM 2.0 Library, Part 2, §12.2.4), without
the two-byte size of a ``TPM2B_PUBLIC``; all integers are big-endian (mosip-crypto.md §10.1):

    type u16 | nameAlg u16 | objectAttributes u32 | authPolicy (u16 size, bytes)
    | parameters (for RSA: TPMS_RSA_PARMS) | unique (for RSA: u16 size, modulus)
    TPMS_RSA_PARMS = symmetric (u16 alg [, u16 keyBits, u16 mode]) | scheme (u16 alg [, u16 hashAlg])
                     | keyBits u16 | exponent u32 (0 means the default, 65537)

Only RSA keys are of use to client crypto; any other type, a structure cut short or followed by
stray bytes is a ``TpmFormatError``, which callers take as "not a TPM key".
"""
from __future__ import annotations

from dataclasses import dataclass

ALG_RSA = 0x0001
ALG_SHA256 = 0x000B
ALG_NULL = 0x0010
ALG_RSASSA = 0x0014
ALG_RSAES = 0x0015
ALG_RSAPSS = 0x0016
ALG_OAEP = 0x0017
#: An exponent field of 0 stands for 65537 (tpm2-tools writes 0, TSS.Java templates 65537).
DEFAULT_EXPONENT = 65537

#: RSA schemes and whether a hash algorithm follows the scheme's identifier (RSAES has no details).
_RSA_SCHEMES = {ALG_NULL: False, ALG_RSAES: False, ALG_RSASSA: True, ALG_RSAPSS: True, ALG_OAEP: True}


class TpmFormatError(ValueError):
    """The bytes are not an RSA TPMT_PUBLIC (cut short, another key type, stray bytes)."""


@dataclass(frozen=True)
class TpmRsaPublic:
    name_alg: int
    object_attributes: int
    scheme: int  # ALG_NULL when the key leaves the scheme to the caller
    scheme_hash: int | None
    key_bits: int
    exponent: int  # 65537 where the structure says 0
    modulus: bytes


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, length: int) -> bytes:
        if self._at + length > len(self._data):
            raise TpmFormatError("TPMT_PUBLIC is cut short")
        chunk = self._data[self._at:self._at + length]
        self._at += length
        return chunk

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def sized(self) -> bytes:
        return self.take(self.u16())

    def finish(self) -> None:
        if self._at != len(self._data):
            raise TpmFormatError("stray bytes after the TPMT_PUBLIC")


def parse_rsa_public(data: bytes) -> TpmRsaPublic:
    """The RSA public area in ``data`` (exactly one TPMT_PUBLIC), or TpmFormatError."""
    reader = _Reader(data)
    key_type = reader.u16()
    if key_type != ALG_RSA:
        raise TpmFormatError("not an RSA TPMT_PUBLIC")
    name_alg = reader.u16()
    attributes = reader.u32()
    reader.sized()  # authPolicy: irrelevant to using the public key
    if reader.u16() != ALG_NULL:  # symmetric (a storage parent's): keyBits and mode follow
        reader.u16()
        reader.u16()
    scheme = reader.u16()
    if scheme not in _RSA_SCHEMES:
        raise TpmFormatError("not an RSA scheme")
    scheme_hash = reader.u16() if _RSA_SCHEMES[scheme] else None
    key_bits = reader.u16()
    exponent = reader.u32() or DEFAULT_EXPONENT
    modulus = reader.sized()
    reader.finish()
    # A TPM fills the modulus to the key size; anything else is no key a TPM made.
    if not modulus or len(modulus) * 8 != key_bits:
        raise TpmFormatError("the modulus does not match keyBits")
    return TpmRsaPublic(name_alg, attributes, scheme, scheme_hash, key_bits, exponent, modulus)

