"""PKCS#11 keystore (python-pkcs11): ROOT and module master keys inside an HSM."""
