"""TokenIDGeneratorController's use case."""
