"""SignatureController's use cases."""
