"""CryptomanagerController's use cases."""
