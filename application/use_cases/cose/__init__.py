"""CoseSignController's use cases (the reference's development line): COSE_Sign1 and CWT."""
