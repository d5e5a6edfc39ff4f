"""Use cases and the ports they need. Imports the domain and the `cryptography`
library (through `application.crypto` and `application.x509`), nothing else."""
