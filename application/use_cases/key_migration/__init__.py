"""KeyMigratorController's use cases (mosip-api.md §9): base keys and ZK pool keys moved in from
another Key Manager deployment, and the temporary key the ZK pool keys travel under."""
