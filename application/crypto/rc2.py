"""RC2 decryption (RFC 2268), CBC mode: only for reading legacy PKCS#12 files.

JDKs before 11.0.12 (and JDK 17 with ``-Dkeystore.pkcs12.legacy``) encrypt the certificates of a
PKCS#12 keystore with pbeWithSHAAnd40BitRC2-CBC. ``cryptography`` offers RC2 with 128-bit keys
only, so the 40-bit variant is done here, in pure Python: a few kilobytes of certificates, once
per import. Decryption only; nothing of ours ever encrypts with RC2.
"""
from __future__ import annotations

#: RFC 2268 section 2: a fixed permutation of 0..255 "based on the digits of pi".
PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)
BLOCK_SIZE = 8
_MASK = 0xFFFF
_SHIFTS = (1, 2, 3, 5)


def expand_key(key: bytes, effective_bits: int) -> list[int]:
    """The 64 16-bit key words K[0..63] (RFC 2268 section 2)."""
    if not 1 <= len(key) <= 128 or not 1 <= effective_bits <= 1024:
        raise ValueError("RC2 key of 1..128 bytes and 1..1024 effective bits")
    length = len(key)
    buffer = bytearray(128)
    buffer[:length] = key
    for i in range(length, 128):
        buffer[i] = PITABLE[(buffer[i - 1] + buffer[i - length]) & 0xFF]
    effective_bytes = (effective_bits + 7) // 8
    mask = 0xFF % (1 << (8 + effective_bits - 8 * effective_bytes))
    buffer[128 - effective_bytes] = PITABLE[buffer[128 - effective_bytes] & mask]
    for i in range(127 - effective_bytes, -1, -1):
        buffer[i] = PITABLE[buffer[i + 1] ^ buffer[i + effective_bytes]]
    return [buffer[2 * i] | (buffer[2 * i + 1] << 8) for i in range(64)]


def _decrypt_block(words: list[int], block: bytes) -> bytes:
    r = [block[2 * i] | (block[2 * i + 1] << 8) for i in range(4)]
    j = 63

    def unmix() -> None:
        nonlocal j
        for i in (3, 2, 1, 0):
            s = _SHIFTS[i]
            r[i] = ((r[i] >> s) | (r[i] << (16 - s))) & _MASK  # rotate right
            r[i] = (r[i] - words[j] - (r[i - 1] & r[i - 2]) - ((~r[i - 1]) & r[i - 3])) & _MASK
            j -= 1

    def unmash() -> None:
        for i in (3, 2, 1, 0):
            r[i] = (r[i] - words[r[i - 1] & 63]) & _MASK

    for rounds, then_unmash in ((5, True), (6, True), (5, False)):
        for _ in range(rounds):
            unmix()
        if then_unmash:
            unmash()
    return bytes(b for word in r for b in (word & 0xFF, word >> 8))


def decrypt_ecb_block(key: bytes, effective_bits: int, block: bytes) -> bytes:
    """One block (the RFC's test vectors are given this way)."""
    if len(block) != BLOCK_SIZE:
        raise ValueError("RC2 works on 8-byte blocks")
    return _decrypt_block(expand_key(key, effective_bits), block)


def decrypt_cbc(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """CBC decryption, padding left in place (the caller checks and removes it)."""
    if len(iv) != BLOCK_SIZE or not data or len(data) % BLOCK_SIZE:
        raise ValueError("RC2-CBC needs an 8-byte IV and whole 8-byte blocks")
    words = expand_key(key, effective_bits)
    out = bytearray()
    previous = iv
    for offset in range(0, len(data), BLOCK_SIZE):
        block = data[offset:offset + BLOCK_SIZE]
        out += bytes(a ^ b for a, b in zip(_decrypt_block(words, block), previous, strict=True))
        previous = block
    return bytes(out)
