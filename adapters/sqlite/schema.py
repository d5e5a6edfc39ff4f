"""Versioned schema of the embedded store: the reference's mosip_keymgr tables.

Column names and meanings follow db_scripts/mosip_keymgr, so data can move
between this store and a reference database. Each migration runs once, in a
transaction, and is recorded in schema_version.
"""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from domain.keys import DEFAULT_POLICIES

_AUDIT = """
    cr_by VARCHAR(256) NOT NULL,
    cr_dtimes TIMESTAMP NOT NULL,
    upd_by VARCHAR(256),
    upd_dtimes TIMESTAMP,
    is_deleted BOOLEAN DEFAULT FALSE,
    del_dtimes TIMESTAMP"""

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        f"""
CREATE TABLE key_alias (
    id VARCHAR(36) NOT NULL CONSTRAINT pk_keymals_id PRIMARY KEY,
    app_id VARCHAR(36) NOT NULL,
    ref_id VARCHAR(128),
    key_gen_dtimes TIMESTAMP,
    key_expire_dtimes TIMESTAMP,
    status_code VARCHAR(36),
    lang_code VARCHAR(3),{_AUDIT},
    cert_thumbprint VARCHAR(100),
    uni_ident VARCHAR(50) CONSTRAINT uni_ident_const UNIQUE
);
CREATE INDEX idx_key_alias_app_ref ON key_alias (app_id, ref_id, key_gen_dtimes);
CREATE INDEX idx_key_alias_thumbprint ON key_alias (cert_thumbprint);
CREATE TABLE key_store (
    id VARCHAR(36) NOT NULL CONSTRAINT pk_keystr_id PRIMARY KEY,
    master_key VARCHAR(36) NOT NULL,
    private_key VARCHAR(2500) NOT NULL,
    certificate_data TEXT NOT NULL,{_AUDIT}
);
CREATE TABLE key_policy_def (
    app_id VARCHAR(36) NOT NULL CONSTRAINT pk_keypdef_id PRIMARY KEY,
    key_validity_duration SMALLINT,
    is_active BOOLEAN NOT NULL,
    pre_expire_days SMALLINT,
    access_allowed VARCHAR(1024),{_AUDIT}
);
CREATE TABLE data_encrypt_keystore (
    id BIGINT NOT NULL CONSTRAINT pk_dekstr_id PRIMARY KEY,
    key VARCHAR(64) NOT NULL,
    key_status VARCHAR(16),
    cr_by VARCHAR(256) NOT NULL,
    cr_dtimes TIMESTAMP NOT NULL,
    upd_by VARCHAR(256),
    upd_dtimes TIMESTAMP
);
CREATE TABLE ca_cert_store (
    cert_id VARCHAR(36) NOT NULL CONSTRAINT pk_cacs_id PRIMARY KEY,
    cert_subject VARCHAR(500) NOT NULL,
    cert_issuer VARCHAR(500) NOT NULL,
    issuer_id VARCHAR(36) NOT NULL,
    cert_not_before TIMESTAMP,
    cert_not_after TIMESTAMP,
    crl_uri VARCHAR(120),
    cert_data TEXT,
    cert_thumbprint VARCHAR(100),
    cert_serial_no VARCHAR(50),
    partner_domain VARCHAR(36),{_AUDIT},
    ca_cert_type VARCHAR(25),
    CONSTRAINT cert_thumbprint_unique UNIQUE (cert_thumbprint, partner_domain)
);
CREATE TABLE partner_cert_store (
    cert_id VARCHAR(36) NOT NULL CONSTRAINT pk_parcs_id PRIMARY KEY,
    cert_subject VARCHAR(500) NOT NULL,
    cert_issuer VARCHAR(500) NOT NULL,
    issuer_id VARCHAR(36) NOT NULL,
    cert_not_before TIMESTAMP,
    cert_not_after TIMESTAMP,
    partner_domain VARCHAR(36),
    cert_data TEXT,
    signed_cert_data TEXT,
    key_usage VARCHAR(150),
    organization_name VARCHAR(120),
    cert_thumbprint VARCHAR(100),
    cert_serial_no VARCHAR(50),{_AUDIT}
);
""",
    ),
    (
        2,
        # The audit trail (ADR 0011): our own table, not one of the reference's. seq_no has no
        # gaps and starts at 1; record_hash chains each row to prev_hash (domain/audit.py).
        """
CREATE TABLE km_audit_log (
    seq_no INTEGER NOT NULL CONSTRAINT pk_kmaudit_seq PRIMARY KEY,
    event_dtimes VARCHAR(32) NOT NULL,
    subject VARCHAR(256),
    operation VARCHAR(64) NOT NULL,
    app_id VARCHAR(256),
    ref_id VARCHAR(256),
    key_alias VARCHAR(256),
    cert_thumbprint VARCHAR(256),
    outcome VARCHAR(256) NOT NULL,
    prev_hash CHAR(64) NOT NULL,
    record_hash CHAR(64) NOT NULL
);
""",
    ),
    (
        3,
        # Thumbprints a key had before uploadCertificate gave it a new certificate: data encrypted
        # to the old certificate still names the old thumbprint and must still open (ours, ADR 0005).
        """
CREATE TABLE km_key_thumbprint (
    cert_thumbprint VARCHAR(100) NOT NULL CONSTRAINT pk_kmkthumb PRIMARY KEY,
    key_alias_id VARCHAR(36) NOT NULL,
    cr_dtimes TIMESTAMP NOT NULL
);
""",
    ),
    (
        4,
        # The partner trust store is read per domain (path building, listings).
        """
CREATE INDEX idx_ca_cert_domain ON ca_cert_store (partner_domain, cr_dtimes);
""",
    ),
    (
        5,
        # A check value per ZK pool row, so a corrupted row or the wrong master key is detected
        # at unwrap time (ADR 0013). The pool rows stay the reference's format.
        """
CREATE TABLE km_zk_key_check (
    id BIGINT NOT NULL CONSTRAINT pk_kmzkcheck PRIMARY KEY,
    key_check VARCHAR(64) NOT NULL,
    cr_dtimes TIMESTAMP NOT NULL
);
""",
    ),
    (
        6,
        # The reference's licence key tables (LicenseKeyController, issue 16), its names and columns.
        f"""
CREATE TABLE licensekey_list (
    license_key VARCHAR(255) NOT NULL CONSTRAINT pk_lkeylst PRIMARY KEY,
    created_dtime TIMESTAMP,
    expiry_dtime TIMESTAMP,
    is_active BOOLEAN NOT NULL,{_AUDIT}
);
CREATE TABLE licensekey_permission (
    license_key VARCHAR(255) NOT NULL CONSTRAINT pk_lkeyper PRIMARY KEY
        CONSTRAINT fk_lkeyper REFERENCES licensekey_list (license_key),
    permission VARCHAR(512),
    is_active BOOLEAN NOT NULL,{_AUDIT}
);
CREATE TABLE tsp_licensekey_map (
    tsp_id VARCHAR(36) NOT NULL,
    license_key VARCHAR(255) NOT NULL CONSTRAINT fk_tsplkeym REFERENCES licensekey_list (license_key),
    is_active BOOLEAN NOT NULL,{_AUDIT},
    CONSTRAINT pk_tsplkeym PRIMARY KEY (tsp_id, license_key)
);
""",
    ),
    # -- post-quantum hybrid (issue 18) --
    (
        7,
        # ML-KEM-768 twins of RSA base keys (ADR 0023): our own table, the reference's untouched.
        # private_key is the 64-byte seed wrapped by the module key in key_store's layout.
        f"""
CREATE TABLE km_pq_key (
    id VARCHAR(64) NOT NULL CONSTRAINT pk_kmpqkey PRIMARY KEY,
    key_alias_id VARCHAR(36) NOT NULL CONSTRAINT uk_kmpqkey_alias UNIQUE,
    algorithm VARCHAR(32) NOT NULL,
    master_key VARCHAR(36) NOT NULL,
    public_key TEXT NOT NULL,
    private_key VARCHAR(2500) NOT NULL,{_AUDIT}
);
""",
    ),
]

SEED_USER = "mosipadmin"


def format_timestamp(instant: datetime) -> str:
    """UTC instants are stored as naive 'YYYY-MM-DD HH:MM:SS.ffffff' (a SQL TIMESTAMP)."""
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def current_version(connection: sqlite3.Connection) -> int:
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_dtimes TIMESTAMP NOT NULL)"
    )
    row = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def upgrade(connection: sqlite3.Connection) -> list[int]:
    """Apply pending migrations (idempotent, safe when several processes start at once)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        applied = []
        version = current_version(connection)
        for number, script in MIGRATIONS:
            if number <= version:
                continue
            for statement in filter(str.strip, script.split(";")):
                connection.execute(statement)
            if number == 1:
                _seed_policies(connection)
            connection.execute(
                "INSERT INTO schema_version (version, applied_dtimes) VALUES (?, ?)",
                (number, format_timestamp(datetime.now(UTC))),
            )
            applied.append(number)
        connection.execute("COMMIT")
        return applied
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _seed_policies(connection: sqlite3.Connection) -> None:
    now = format_timestamp(datetime.now(UTC))
    connection.executemany(
        "INSERT OR IGNORE INTO key_policy_def (app_id, key_validity_duration, is_active, pre_expire_days,"
        " access_allowed, cr_by, cr_dtimes) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(p.app_id, p.validity_days, 1, p.pre_expire_days, p.access_allowed, SEED_USER, now) for p in DEFAULT_POLICIES],
    )
