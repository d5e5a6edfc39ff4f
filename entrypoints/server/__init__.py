"""The HTTP server: granian (Rust) in front, the Flask application behind an RSGI bridge (ADR 0015)."""
