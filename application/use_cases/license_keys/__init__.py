"""LicenseKeyController's use cases: licence keys of trusted service providers and their permissions."""
