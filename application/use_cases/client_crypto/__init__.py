"""ClientCryptoController's use cases: the service's own client keys sign, decrypt and show their
public keys; a client's public key (TPM, Android or local) verifies and is encrypted to."""
