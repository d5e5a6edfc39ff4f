"""PartnerCertManagerController's use cases."""
