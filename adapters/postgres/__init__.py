"""PostgreSQL store (pg8000): the reference's mosip_keymgr schema, shared by many instances."""
