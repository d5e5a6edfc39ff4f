"""The embedded keystore: password-protected PKCS#12 files in a directory."""
