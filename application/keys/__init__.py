"""Key management: the key hierarchy, signing keys, symmetric keys, ZK keys, trust paths to ROOT."""
