"""Versioned migrations of the PostgreSQL schema (the reference's mosip_keymgr tables).

Written to be pointed at an existing reference database too: tables and columns
are created only when missing (the reference's 1.2.0.1 and 1.3.0 upgrades
included), and default key policies are inserted only where absent (an existing
default row only gets the pre_expire_days / access_allowed it lacks). Applied
migrations are recorded in <schema>.km_schema_version; concurrent upgrades
serialise on a transaction-scoped advisory lock.
"""
from __future__ import annotations

from domain.keys import DEFAULT_POLICIES

#: Advisory lock key taken while migrating (an arbitrary constant of ours).
MIGRATION_LOCK = 0x4B4D5F4D49475241  # "KM_MIGRA"
#: Advisory lock key taken by every audit append, so the chain never forks (ADR 0011).
AUDIT_LOCK = 0x4B4D5F4155444954  # "KM_AUDIT"

_AUDIT = """
    cr_by character varying(256) NOT NULL,
    cr_dtimes timestamp NOT NULL,
    upd_by character varying(256),
    upd_dtimes timestamp,
    is_deleted boolean DEFAULT FALSE,
    del_dtimes timestamp"""


def migrations(schema: str) -> list[tuple[int, list[str]]]:
    s = schema
    return [
        (
            1,
            [
                f"CREATE SCHEMA IF NOT EXISTS {s}",
                f"""CREATE TABLE IF NOT EXISTS {s}.key_alias (
    id character varying(36) NOT NULL,
    app_id character varying(36) NOT NULL,
    ref_id character varying(128),
    key_gen_dtimes timestamp,
    key_expire_dtimes timestamp,
    status_code character varying(36),
    lang_code character varying(3),{_AUDIT},
    cert_thumbprint character varying(100),
    uni_ident character varying(50),
    CONSTRAINT pk_keymals_id PRIMARY KEY (id),
    CONSTRAINT uni_ident_const UNIQUE (uni_ident)
)""",
                # reference 1.2.0.1 upgrade columns, for databases created before it
                f"ALTER TABLE {s}.key_alias ADD COLUMN IF NOT EXISTS cert_thumbprint character varying(100)",
                f"ALTER TABLE {s}.key_alias ADD COLUMN IF NOT EXISTS uni_ident character varying(50)",
                # ... and its unique constraint (the column was just added, so every value is NULL)
                f"""DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'uni_ident_const'
                   AND conrelid = '{s}.key_alias'::regclass) THEN
        ALTER TABLE {s}.key_alias ADD CONSTRAINT uni_ident_const UNIQUE (uni_ident);
    END IF;
END $$""",
                f"CREATE INDEX IF NOT EXISTS idx_km_key_alias_app_ref"
                f" ON {s}.key_alias (app_id, ref_id, key_gen_dtimes)",
                f"CREATE INDEX IF NOT EXISTS idx_km_key_alias_thumbprint ON {s}.key_alias (cert_thumbprint)",
                f"""CREATE TABLE IF NOT EXISTS {s}.key_store (
    id character varying(36) NOT NULL,
    master_key character varying(36) NOT NULL,
    private_key character varying(2500) NOT NULL,
    certificate_data character varying NOT NULL,{_AUDIT},
    CONSTRAINT pk_keystr_id PRIMARY KEY (id)
)""",
                f"""CREATE TABLE IF NOT EXISTS {s}.key_policy_def (
    app_id character varying(36) NOT NULL,
    key_validity_duration smallint,
    is_active boolean NOT NULL,
    pre_expire_days smallint,
    access_allowed character varying(1024),{_AUDIT},
    CONSTRAINT pk_keypdef_id PRIMARY KEY (app_id)
)""",
                f"ALTER TABLE {s}.key_policy_def ADD COLUMN IF NOT EXISTS pre_expire_days smallint",
                f"ALTER TABLE {s}.key_policy_def ADD COLUMN IF NOT EXISTS access_allowed character varying(1024)",
                f"""CREATE TABLE IF NOT EXISTS {s}.data_encrypt_keystore (
    id bigint NOT NULL,
    key character varying(64) NOT NULL,
    key_status character varying(16),
    cr_by character varying(256) NOT NULL,
    cr_dtimes timestamp NOT NULL,
    upd_by character varying(256),
    upd_dtimes timestamp,
    CONSTRAINT pk_dekstr_id PRIMARY KEY (id)
)""",
                f"""CREATE TABLE IF NOT EXISTS {s}.ca_cert_store (
    cert_id character varying(36) NOT NULL,
    cert_subject character varying(500) NOT NULL,
    cert_issuer character varying(500) NOT NULL,
    issuer_id character varying(36) NOT NULL,
    cert_not_before timestamp,
    cert_not_after timestamp,
    crl_uri character varying(120),
    cert_data character varying,
    cert_thumbprint character varying(100),
    cert_serial_no character varying(50),
    partner_domain character varying(36),{_AUDIT},
    ca_cert_type character varying(25),
    CONSTRAINT pk_cacs_id PRIMARY KEY (cert_id),
    CONSTRAINT cert_thumbprint_unique UNIQUE (cert_thumbprint, partner_domain)
)""",
                f"ALTER TABLE {s}.ca_cert_store ADD COLUMN IF NOT EXISTS ca_cert_type character varying(25)",
                f"""CREATE TABLE IF NOT EXISTS {s}.partner_cert_store (
    cert_id character varying(36) NOT NULL,
    cert_subject character varying(500) NOT NULL,
    cert_issuer character varying(500) NOT NULL,
    issuer_id character varying(36) NOT NULL,
    cert_not_before timestamp,
    cert_not_after timestamp,
    partner_domain character varying(36),
    cert_data character varying,
    signed_cert_data character varying,
    key_usage character varying(150),
    organization_name character varying(120),
    cert_thumbprint character varying(100),
    cert_serial_no character varying(50),{_AUDIT},
    CONSTRAINT pk_parcs_id PRIMARY KEY (cert_id)
)""",
            ],
        ),
        (
            2,
            [
                # The audit trail (ADR 0011): our own table, not one of the reference's.
                f"""CREATE TABLE IF NOT EXISTS {s}.km_audit_log (
    seq_no bigint NOT NULL,
    event_dtimes character varying(32) NOT NULL,
    subject character varying(256),
    operation character varying(64) NOT NULL,
    app_id character varying(256),
    ref_id character varying(256),
    key_alias character varying(256),
    cert_thumbprint character varying(256),
    outcome character varying(256) NOT NULL,
    prev_hash character(64) NOT NULL,
    record_hash character(64) NOT NULL,
    CONSTRAINT pk_kmaudit_seq PRIMARY KEY (seq_no)
)""",
            ],
        ),
        (
            3,
            [
                # Thumbprints a key had before uploadCertificate replaced its certificate (ADR 0005).
                f"""CREATE TABLE IF NOT EXISTS {s}.km_key_thumbprint (
    cert_thumbprint character varying(100) NOT NULL,
    key_alias_id character varying(36) NOT NULL,
    cr_dtimes timestamp NOT NULL,
    CONSTRAINT pk_kmkthumb PRIMARY KEY (cert_thumbprint)
)""",
            ],
        ),
        (
            4,
            [
                # The partner trust store is read per domain (path building, listings).
                f"CREATE INDEX IF NOT EXISTS idx_km_ca_cert_domain ON {s}.ca_cert_store (partner_domain, cr_dtimes)",
            ],
        ),
        (
            5,
            [
                # A check value per ZK pool row, so a corrupted row or the wrong master key is
                # detected at unwrap time (ADR 0013). The pool rows stay the reference's format.
                f"""CREATE TABLE IF NOT EXISTS {s}.km_zk_key_check (
    id bigint NOT NULL,
    key_check character varying(64) NOT NULL,
    cr_dtimes timestamp NOT NULL,
    CONSTRAINT pk_kmzkcheck PRIMARY KEY (id)
)""",
            ],
        ),
        (
            6,
            [
                # The reference's licence key tables (LicenseKeyController, issue 16): created when
                # missing, so a reference database keeps its rows (and its foreign keys, keymgr-fk.sql).
                f"""CREATE TABLE IF NOT EXISTS {s}.licensekey_list (
    license_key character varying(255) NOT NULL,
    created_dtime timestamp,
    expiry_dtime timestamp,
    is_active boolean NOT NULL,{_AUDIT},
    CONSTRAINT pk_lkeylst PRIMARY KEY (license_key)
)""",
                f"""CREATE TABLE IF NOT EXISTS {s}.licensekey_permission (
    license_key character varying(255) NOT NULL,
    permission character varying(512),
    is_active boolean NOT NULL,{_AUDIT},
    CONSTRAINT pk_lkeyper PRIMARY KEY (license_key)
)""",
                f"""CREATE TABLE IF NOT EXISTS {s}.tsp_licensekey_map (
    tsp_id character varying(36) NOT NULL,
    license_key character varying(255) NOT NULL,
    is_active boolean NOT NULL,{_AUDIT},
    CONSTRAINT pk_tsplkeym PRIMARY KEY (tsp_id, license_key)
)""",
                *(
                    f"""DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '{name}'
                   AND conrelid = '{s}.{table}'::regclass) THEN
        ALTER TABLE {s}.{table} ADD CONSTRAINT {name} FOREIGN KEY (license_key)
            REFERENCES {s}.licensekey_list (license_key) MATCH SIMPLE ON DELETE NO ACTION ON UPDATE NO ACTION;
    END IF;
END $$"""
                    for table, name in (("tsp_licensekey_map", "fk_tsplkeym"), ("licensekey_permission", "fk_lkeyper"))
                ),
            ],
        ),
        # -- post-quantum hybrid (issue 18) --
        (
            7,
            [
                # ML-KEM-768 twins of RSA base keys (ADR 0023): our own table, the reference's untouched.
                f"""CREATE TABLE IF NOT EXISTS {s}.km_pq_key (
    id character varying(64) NOT NULL,
    key_alias_id character varying(36) NOT NULL,
    algorithm character varying(32) NOT NULL,
    master_key character varying(36) NOT NULL,
    public_key text NOT NULL,
    private_key character varying(2500) NOT NULL,{_AUDIT},
    CONSTRAINT pk_kmpqkey PRIMARY KEY (id),
    CONSTRAINT uk_kmpqkey_alias UNIQUE (key_alias_id)
)""",
            ],
        ),
    ]


def seed_policies_sql(schema: str) -> tuple[str, list[dict[str, object]]]:
    sql = (
        f"INSERT INTO {schema}.key_policy_def (app_id, key_validity_duration, is_active, pre_expire_days,"
        " access_allowed, cr_by, cr_dtimes) VALUES (:app, :validity, TRUE, :pre, :access, 'mosipadmin',"
        " (now() AT TIME ZONE 'UTC')) ON CONFLICT (app_id) DO UPDATE"
        # An existing row keeps its values; only the columns the 1.2.0 upgrade added, still
        # empty, get the defaults (as the reference's upgrade sets them; NULL access_allowed
        # would refuse every decryption for the application).
        f" SET pre_expire_days = COALESCE({schema}.key_policy_def.pre_expire_days, excluded.pre_expire_days),"
        f" access_allowed = COALESCE({schema}.key_policy_def.access_allowed, excluded.access_allowed)"
        f" WHERE {schema}.key_policy_def.pre_expire_days IS NULL OR {schema}.key_policy_def.access_allowed IS NULL"
    )
    rows: list[dict[str, object]] = [
        {"app": p.app_id, "validity": p.validity_days, "pre": p.pre_expire_days, "access": p.access_allowed}
        for p in DEFAULT_POLICIES
    ]
    return sql, rows
