"""The reference's COSE and CWT properties (mosip-cose-pdf.md A.10), with its code defaults. The kid
prefix and switch are shared with the JWS endpoints (application/keys/signing.py, KeyIdRule)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CoseOptions:
    #: mosip.kernel.keymanager.signature.cwt.sign.iss / .exp / .nbf
    cwt_issuer: str = ""
    cwt_expire_days: int = 180
    cwt_not_before_days: int = 0
    #: mosip.kernel.keymanager.signature.cwt.verify.iss(.enable) / .sub(.enable)
    verify_issuer: bool = False
    expected_issuer: str = ""
    verify_subject: bool = False
    expected_subject: str = ""
