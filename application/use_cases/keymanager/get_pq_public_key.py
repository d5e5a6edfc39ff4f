"""getPqPublicKey (issue 18): the ML-KEM-768 public key of (app, ref) as a statement signed by the
module key, for clients that encrypt to the hybrid envelope themselves (ADR 0023)."""
from __future__ import annotations

from dataclasses import dataclass

from application.keys.pq_keys import PqKeyring, PqStatement
from application.use_cases.cryptomanager.key_choice import refuse_master_key_encryption
from domain.keys import KeyTuple


@dataclass(frozen=True)
class GetPqPublicKeyCommand:
    app_id: str
    ref_id: str


class GetPqPublicKey:
    def __init__(self, pq_keys: PqKeyring) -> None:
        self.pq_keys = pq_keys

    def execute(self, command: GetPqPublicKeyCommand) -> PqStatement:
        key_tuple = KeyTuple(command.app_id, command.ref_id)
        refuse_master_key_encryption(key_tuple)  # only base keys have ML-KEM twins
        return self.pq_keys.statement(key_tuple)
