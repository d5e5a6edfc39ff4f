"""ClientCryptoController: the service's own client keys (sign, decrypt) and a client's keys (TPM,
Android, local: verify, encrypt)."""
from __future__ import annotations

from .routes import Controller

api = Controller("client_crypto", tag="client-crypto-controller")
blueprint = api.blueprint
