from __future__ import annotations

from collections.abc import Callable

from application.crypto import token_id


class GenerateTokenId:
    """tokenid/{uin}/{partnercode}: the reference's deterministic token (double SHA-256 with
    the deployment's two salts, as a decimal string of the configured length)."""

    def __init__(self, salts: Callable[[], tuple[str, str]], length: int) -> None:
        self.salts = salts
        self.length = length

    def execute(self, uin: str, partner_code: str) -> str:
        uin_salt, partner_code_salt = self.salts()
        return token_id.token_id(uin, partner_code, uin_salt, partner_code_salt, self.length)
