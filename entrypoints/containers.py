"""The dependency-injection container: one Selector per port, chosen by settings.

Nothing here connects or opens files at import time; providers build adapters
on first use, after ``build_container`` has filled in the configuration: every
setting under its ``Settings`` field name, plus the values derived from them
(``derived_config``).
"""
from __future__ import annotations

from typing import Any

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.memory.audit_log import MemoryAuditLog
from adapters.memory.key_repository import MemoryStore, MemoryUnitOfWorkFactory
from adapters.memory.keystore import MemoryKeystore
from adapters.pkcs11.keystore import Pkcs11Keystore
from adapters.pkcs12.keystore import Pkcs12Keystore
from adapters.postgres.audit_log import PostgresAuditLog
from adapters.postgres.key_repository import (
    InvalidDatabaseUrl,
    PostgresDatabase,
    PostgresOptions,
    PostgresUnitOfWorkFactory,
)
from adapters.sqlite.audit_log import SqliteAuditLog
from adapters.sqlite.key_repository import SqliteDatabase, SqliteUnitOfWorkFactory
from application.crypto.primitives import generate_rsa_key
from application.keys.client_keys import ClientKeys
from application.keys.hierarchy import CertificateDefaults, KeyHierarchy
from application.keys.pq_keys import PqKeyring  # -- post-quantum hybrid (issue 18) --
from application.keys.signing import KeyIdRule, SigningKeys
from application.keys.symmetric import SymmetricKeys
from application.keys.zk import ZkKeys
from application.partner_trust.store import PartnerTrustStore
from application.ports.keystore import KeyAlgorithm, KeystoreError
from application.support.audit_writer import AuditWriter
from application.support.ttl_cache import TtlLruCache
from application.support.work_limiter import WorkLimiter
from application.use_cases.admin.audit_view import ListAuditRecords, VerifyAuditTrail
from application.use_cases.admin.key_inventory import KeyInventory
from application.use_cases.admin.key_policies import ListKeyPolicies, SetKeyPolicy
from application.use_cases.client_crypto.client_public_keys import EncryptForClient, VerifyClientSignature
from application.use_cases.client_crypto.service_keys import ClientDecrypt, ClientSign, ServicePublicKey
from application.use_cases.cose.cose_sign import CoseSign1, CwtSign
from application.use_cases.cose.cose_verify import CoseVerify1, CwtVerify, SignatureCheck
from application.use_cases.cose.options import CoseOptions
from application.use_cases.cose.signer import CoseSigner
from application.use_cases.cryptomanager.decrypt_data import DecryptData
from application.use_cases.cryptomanager.encrypt_data import EncryptData
from application.use_cases.cryptomanager.generate_argon2_hash import Argon2Parameters, GenerateArgon2Hash
from application.use_cases.cryptomanager.jwt_encryption import JwtDecrypt, JwtEncrypt
from application.use_cases.cryptomanager.pin_encryption import PinEncryption
from application.use_cases.cryptomanager.rewrap import RewrapData  # -- post-quantum hybrid (issue 18) --
from application.use_cases.key_migration.migrate_base_key import MigrateBaseKey
from application.use_cases.key_migration.migrate_zk_keys import MigrateZkKeys
from application.use_cases.key_migration.zk_temp_certificate import GetZkTempCertificate
from application.use_cases.keymanager.generate_csr import GenerateCsr
from application.use_cases.keymanager.generate_ec_sign_key import GenerateEcSignKey
from application.use_cases.keymanager.generate_master_key import GenerateMasterKey
from application.use_cases.keymanager.generate_symmetric_key import GenerateSymmetricKey
from application.use_cases.keymanager.get_all_certificates import GetAllCertificates
from application.use_cases.keymanager.get_certificate import GetCertificate
from application.use_cases.keymanager.get_certificate_chain import GetCertificateChain
from application.use_cases.keymanager.get_pq_public_key import GetPqPublicKey  # -- post-quantum hybrid (issue 18) --
from application.use_cases.keymanager.revoke_key import RevokeKey
from application.use_cases.keymanager.rotate_due_keys import RotateDueKeys
from application.use_cases.keymanager.upload_certificate import UploadCertificate
from application.use_cases.keymanager.upload_other_domain_certificate import UploadOtherDomainCertificate
from application.use_cases.keystore.import_keystore import ImportKeystore
from application.use_cases.license_keys.fetch_license_permissions import FetchLicensePermissions
from application.use_cases.license_keys.generate_license_key import GenerateLicenseKey
from application.use_cases.license_keys.map_license_permissions import MapLicensePermissions
from application.use_cases.partner.get_ca_certificate_trust_path import GetCaCertificateTrustPath
from application.use_cases.partner.get_ca_certificates import GetCaCertificates
from application.use_cases.partner.get_partner_certificate import GetPartnerCertificate
from application.use_cases.partner.upload_ca_certificate import UploadCaCertificate
from application.use_cases.partner.upload_partner_certificate import UploadPartnerCertificate
from application.use_cases.partner.verify_certificate_trust import VerifyCertificateTrust
from application.use_cases.signature.certificate_chain import CertificateChains
from application.use_cases.signature.legacy_signature import LegacySign, LegacyValidate
from application.use_cases.signature.sign_jws import JwsSign
from application.use_cases.signature.sign_jwt import JwtSign
from application.use_cases.signature.sign_pdf import SignPdf
from application.use_cases.signature.sign_raw import SignRawData
from application.use_cases.signature.verify_jwt import JwtVerify
from application.use_cases.token_id.generate_token_id import GenerateTokenId
from application.use_cases.zk.attributes import ZkPublicKeys
from application.use_cases.zk.init_zk_pool import InitZkPool
from application.use_cases.zk.zk_decrypt import ZkDecrypt
from application.use_cases.zk.zk_encrypt import ZkEncrypt
from application.use_cases.zk.zk_reencrypt_random_key import ZkReEncryptRandomKey
from domain.errors import KeystoreUnavailableError
from domain.partner_trust import PartnerTrustPolicy

from .secret_files import keystore_password, pkcs11_pin, tokenid_salts
from .settings import ConfigurationError, Settings

#: Entries of the policy and certificate caches (few applications, few current keys).
METADATA_CACHE_SIZE = 512


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)
    #: Where new RSA-2048 private keys come from (a fresh key per call); the test suite overrides
    #: it with a pool of pre-generated keys.
    rsa_key_source = providers.Object(generate_rsa_key)

    sqlite_database = providers.Singleton(SqliteDatabase, path=config.sqlite_path)
    memory_store = providers.Singleton(MemoryStore)
    postgres_database = providers.Singleton(PostgresDatabase, options=config.postgres_options)
    database = providers.Selector(
        config.store,
        sqlite=sqlite_database,
        postgres=postgres_database,
        memory=providers.Object(None),
    )
    uow_factory = providers.Selector(
        config.store,
        sqlite=providers.Singleton(SqliteUnitOfWorkFactory, database=sqlite_database),
        postgres=providers.Singleton(PostgresUnitOfWorkFactory, database=postgres_database),
        memory=providers.Singleton(MemoryUnitOfWorkFactory, store=memory_store),
    )
    #: The hash-chained audit trail (ADR 0011), kept with the key store.
    audit_log = providers.Selector(
        config.store,
        sqlite=providers.Singleton(SqliteAuditLog, database=sqlite_database),
        postgres=providers.Singleton(PostgresAuditLog, database=postgres_database),
        memory=providers.Singleton(MemoryAuditLog, store=memory_store),
    )
    #: Group commit of request records (ADR 0014): one writer thread per process.
    audit_writer = providers.Singleton(AuditWriter, audit_log=audit_log, clock=clock)

    keystore = providers.Selector(
        config.keystore,
        pkcs12=providers.Singleton(Pkcs12Keystore, directory=config.keystore_dir, password=config.pkcs12_password,
                                rsa_key_source=rsa_key_source),
        pkcs11=providers.Singleton(
            Pkcs11Keystore, module=config.pkcs11_module, token_label=config.pkcs11_token_label,
            pin=config.pkcs11_user_pin,
        ),
        memory=providers.Singleton(MemoryKeystore, rsa_key_source=rsa_key_source),
    )

    certificate_defaults = providers.Singleton(
        CertificateDefaults,
        common_name=config.cert_common_name,
        organizational_unit=config.cert_organizational_unit,
        organization=config.cert_organization,
        location=config.cert_location,
        state=config.cert_state,
        country=config.cert_country,
    )
    policy_cache: providers.Singleton[TtlLruCache[Any]] = providers.Singleton(
        TtlLruCache, max_entries=METADATA_CACHE_SIZE, ttl_seconds=config.policy_cache_ttl_seconds
    )
    certificate_cache: providers.Singleton[TtlLruCache[Any]] = providers.Singleton(
        TtlLruCache, max_entries=METADATA_CACHE_SIZE, ttl_seconds=config.key_cache_ttl_seconds
    )
    key_cache: providers.Singleton[TtlLruCache[Any]] = providers.Singleton(
        TtlLruCache, max_entries=config.key_cache_size, ttl_seconds=config.key_cache_ttl_seconds
    )

    hierarchy = providers.Singleton(
        KeyHierarchy,
        uow_factory=uow_factory,
        keystore=keystore,
        clock=clock,
        defaults=certificate_defaults,
        policy_cache=policy_cache,
        certificate_cache=certificate_cache,
        rsa_key_source=rsa_key_source,
        ed25519_in_keystore=config.ed25519_in_keystore,
    )

    generate_master_key = providers.Factory(
        GenerateMasterKey, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock, defaults=certificate_defaults
    )
    get_certificate = providers.Factory(GetCertificate, hierarchy=hierarchy, clock=clock)
    rotate_due_keys = providers.Factory(RotateDueKeys, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock)
    get_all_certificates = providers.Factory(GetAllCertificates, hierarchy=hierarchy, uow_factory=uow_factory)
    revoke_key = providers.Factory(RevokeKey, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock)
    upload_other_domain_certificate = providers.Factory(
        UploadOtherDomainCertificate, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock
    )
    # -- post-quantum hybrid (issue 18) --
    pq_keys = providers.Singleton(
        PqKeyring, hierarchy=hierarchy, uow_factory=uow_factory, keystore=keystore, clock=clock,
        twin_cache=providers.Singleton(
            TtlLruCache, max_entries=METADATA_CACHE_SIZE, ttl_seconds=config.key_cache_ttl_seconds
        ),
        private_cache=providers.Singleton(
            TtlLruCache, max_entries=config.key_cache_size, ttl_seconds=config.key_cache_ttl_seconds
        ),
    )
    get_pq_public_key = providers.Factory(GetPqPublicKey, pq_keys=pq_keys)
    encrypt_data = providers.Factory(
        EncryptData, hierarchy=hierarchy, pq_keys=pq_keys, pq_hybrid_apps=config.pq_hybrid_apps
    )
    decrypt_data = providers.Factory(
        DecryptData, hierarchy=hierarchy, uow_factory=uow_factory, keystore=keystore, key_cache=key_cache,
        pq_keys=pq_keys,
    )
    rewrap_data = providers.Factory(RewrapData, decrypt=decrypt_data, encrypt=encrypt_data)
    generate_ec_sign_key = providers.Factory(
        GenerateEcSignKey, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock, defaults=certificate_defaults
    )
    generate_csr = providers.Factory(
        GenerateCsr, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock, defaults=certificate_defaults
    )
    upload_certificate = providers.Factory(
        UploadCertificate, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock, keystore=keystore
    )
    get_certificate_chain = providers.Factory(
        GetCertificateChain, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock
    )

    signing_keys = providers.Singleton(SigningKeys, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock)

    # The partner trust store (ADR 0012)
    partner_policy = providers.Singleton(
        PartnerTrustPolicy,
        domains=config.partner_domains,
        ca_minimum_validity_months=config.partner_ca_min_validity_months,
        certificate_duration_years=config.partner_cert_duration_years,
        grace_days=config.partner_grace_days,
        sign_app_id=config.partner_sign_app_id,
        resign_ftm_domain_certs=config.partner_resign_ftm_certs,
    )
    partner_trust_store = providers.Singleton(
        PartnerTrustStore,
        cache=providers.Singleton(
            TtlLruCache, max_entries=METADATA_CACHE_SIZE, ttl_seconds=config.partner_trust_cache_seconds
        ),
    )
    upload_ca_certificate = providers.Factory(
        UploadCaCertificate,
        uow_factory=uow_factory,
        trust_store=partner_trust_store,
        clock=clock,
        policy=partner_policy,
    )
    upload_partner_certificate = providers.Factory(
        UploadPartnerCertificate,
        signing_keys=signing_keys,
        hierarchy=hierarchy,
        uow_factory=uow_factory,
        clock=clock,
        trust_store=partner_trust_store,
        policy=partner_policy,
    )
    verify_certificate_trust = providers.Factory(
        VerifyCertificateTrust, uow_factory=uow_factory, trust_store=partner_trust_store, clock=clock,
        policy=partner_policy,
    )
    get_partner_certificate = providers.Factory(GetPartnerCertificate, uow_factory=uow_factory, clock=clock)
    get_ca_certificates = providers.Factory(
        GetCaCertificates, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock, policy=partner_policy
    )
    get_ca_certificate_trust_path = providers.Factory(
        GetCaCertificateTrustPath, uow_factory=uow_factory, trust_store=partner_trust_store, clock=clock
    )

    # Symmetric keys and zero-knowledge encryption (ADR 0013)
    symmetric_keys = providers.Singleton(
        SymmetricKeys, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock, keystore=keystore
    )
    generate_symmetric_key = providers.Factory(GenerateSymmetricKey, symmetric_keys=symmetric_keys, clock=clock)
    zk_keys = providers.Singleton(
        ZkKeys,
        hierarchy=hierarchy,
        uow_factory=uow_factory,
        clock=clock,
        keystore=keystore,
        random_keys=providers.Singleton(
            TtlLruCache, max_entries=config.key_cache_size, ttl_seconds=config.key_cache_ttl_seconds
        ),
        pool_facts=providers.Singleton(TtlLruCache, max_entries=2, ttl_seconds=config.policy_cache_ttl_seconds),
    )
    zk_public_keys = providers.Singleton(
        ZkPublicKeys, app_id=config.zk_public_key_app_id, ref_ids=config.zk_public_key_ref_ids
    )
    init_zk_pool = providers.Factory(
        InitZkPool, symmetric_keys=symmetric_keys, zk_keys=zk_keys, uow_factory=uow_factory
    )
    import_keystore = providers.Factory(ImportKeystore, keystore=keystore, uow_factory=uow_factory, clock=clock)
    zk_encrypt = providers.Factory(
        ZkEncrypt,
        zk_keys=zk_keys,
        hierarchy=hierarchy,
        uow_factory=uow_factory,
        clock=clock,
        public_keys=zk_public_keys,
    )
    zk_decrypt = providers.Factory(ZkDecrypt, zk_keys=zk_keys)
    zk_reencrypt_random_key = providers.Factory(
        ZkReEncryptRandomKey,
        zk_keys=zk_keys,
        uow_factory=uow_factory,
        decrypt=decrypt_data,
        public_keys=zk_public_keys,
    )
    #: PBKDF2 and Argon2 share one bound per process (application/support/work_limiter.py).
    slow_work = providers.Singleton(
        WorkLimiter,
        concurrency=config.slow_work_concurrency,
        waiting=config.slow_work_waiting,
        wait_seconds=config.slow_work_wait_seconds,
    )

    pin_encryption = providers.Factory(PinEncryption, iterations=config.pin_hash_iterations, limiter=slow_work)
    generate_argon2_hash = providers.Factory(
        GenerateArgon2Hash,
        parameters=providers.Singleton(
            Argon2Parameters,
            iterations=config.argon2_iterations,
            memory_kib=config.argon2_memory_kib,
            parallelism=config.argon2_parallelism,
        ),
        limiter=slow_work,
    )
    jwt_encrypt = providers.Factory(JwtEncrypt, hierarchy=hierarchy, clock=clock)
    jwt_decrypt = providers.Factory(
        JwtDecrypt, clock=clock, decrypt=decrypt_data, max_plaintext_bytes=config.max_body_bytes
    )
    #: The salts are read (or generated into the data directory) on the first token request.
    tokenid_salts = providers.Singleton(
        tokenid_salts,
        data_dir=config.data_dir,
        uin_salt=config.tokenid_uin_salt,
        partner_code_salt=config.tokenid_partner_code_salt,
    )
    generate_token_id = providers.Factory(
        GenerateTokenId, salts=tokenid_salts.provider, length=config.tokenid_length
    )

    # The kid and includeCertificateChain of the JWS and COSE signing endpoints
    key_ids = providers.Singleton(KeyIdRule, prefix=config.sign_kid_prefix, include=config.sign_include_keyid)
    certificate_chains = providers.Singleton(
        CertificateChains, hierarchy=hierarchy, uow_factory=uow_factory, trust_store=partner_trust_store,
        clock=clock, trust_domain=config.partner_trust_domain,
    )

    jwt_sign = providers.Factory(
        JwtSign, signing_keys=signing_keys, chains=certificate_chains, key_ids=key_ids, clock=clock
    )
    jwt_verify = providers.Factory(JwtVerify, signing_keys=signing_keys, trust=verify_certificate_trust, clock=clock)
    jws_sign = providers.Factory(
        JwsSign, signing_keys=signing_keys, chains=certificate_chains, key_ids=key_ids, clock=clock
    )
    sign_raw_data = providers.Factory(SignRawData, signing_keys=signing_keys, clock=clock)
    legacy_sign = providers.Factory(LegacySign, signing_keys=signing_keys, clock=clock)
    legacy_validate = providers.Factory(LegacyValidate, signing_keys=signing_keys)

    # PDF signing (ADR 0020)
    sign_pdf = providers.Factory(
        SignPdf, signing_keys=signing_keys, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock,
        owner_password=config.pdf_owner_password,
    )

    # COSE and CWT (ADR 0020)
    cose_options = providers.Singleton(
        CoseOptions,
        cwt_issuer=config.cwt_issuer,
        cwt_expire_days=config.cwt_expire_days,
        cwt_not_before_days=config.cwt_not_before_days,
        verify_issuer=config.cwt_verify_issuer,
        expected_issuer=config.cwt_expected_issuer,
        verify_subject=config.cwt_verify_subject,
        expected_subject=config.cwt_expected_subject,
    )
    cose_signer = providers.Factory(
        CoseSigner, signing_keys=signing_keys, chains=certificate_chains, key_ids=key_ids
    )
    cose_sign1 = providers.Factory(CoseSign1, signer=cose_signer, clock=clock)
    cwt_sign = providers.Factory(CwtSign, signer=cose_signer, clock=clock, options=cose_options)
    cose_signature_check = providers.Factory(
        SignatureCheck, hierarchy=hierarchy, trust=verify_certificate_trust, clock=clock
    )
    cose_verify1 = providers.Factory(CoseVerify1, check=cose_signature_check)
    cwt_verify = providers.Factory(CwtVerify, check=cose_signature_check, clock=clock, options=cose_options)

    # Client crypto: the service's client keys, a client's keys (ADR 0020)
    client_keys = providers.Singleton(
        ClientKeys, keystore=keystore, uow_factory=uow_factory, clock=clock, defaults=certificate_defaults
    )
    client_sign = providers.Factory(ClientSign, client_keys=client_keys)
    client_decrypt = providers.Factory(ClientDecrypt, client_keys=client_keys)
    service_public_key = providers.Factory(ServicePublicKey, client_keys=client_keys)
    verify_client_signature = providers.Factory(VerifyClientSignature)
    encrypt_for_client = providers.Factory(EncryptForClient)

    # -- key migration (issue 16) --
    migrate_base_key = providers.Factory(MigrateBaseKey, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock)
    get_zk_temp_certificate = providers.Factory(
        GetZkTempCertificate, hierarchy=hierarchy, uow_factory=uow_factory, keystore=keystore, clock=clock,
        defaults=certificate_defaults,
    )
    migrate_zk_keys = providers.Factory(
        MigrateZkKeys, hierarchy=hierarchy, zk_keys=zk_keys, uow_factory=uow_factory, keystore=keystore, clock=clock
    )

    # -- licence keys (issue 16) --
    generate_license_key = providers.Factory(
        GenerateLicenseKey, uow_factory=uow_factory, clock=clock, length=config.licensekey_length
    )
    map_license_permissions = providers.Factory(
        MapLicensePermissions, uow_factory=uow_factory, clock=clock, accepted_permissions=config.licensekey_permissions
    )
    fetch_license_permissions = providers.Factory(FetchLicensePermissions, uow_factory=uow_factory, clock=clock)

    # -- admin console (issue 17) --
    key_inventory = providers.Factory(
        KeyInventory, hierarchy=hierarchy, uow_factory=uow_factory, keystore=keystore, clock=clock,
        keystore_type=config.keystore,
    )
    list_key_policies = providers.Factory(ListKeyPolicies, uow_factory=uow_factory)
    set_key_policy = providers.Factory(SetKeyPolicy, hierarchy=hierarchy, uow_factory=uow_factory, clock=clock)
    list_audit_records = providers.Factory(ListAuditRecords, audit_log=audit_log)
    verify_audit_trail = providers.Factory(VerifyAuditTrail, audit_log=audit_log)


def postgres_options(settings: Settings) -> PostgresOptions | None:
    if settings.store != "postgres":
        return None
    if not settings.db_url:
        raise ConfigurationError("KEYMANAGER_STORE=postgres needs KEYMANAGER_DB_URL=postgresql://user@host:port/db")
    try:
        return PostgresOptions.from_url(
            settings.db_url,
            pool_size=settings.db_pool_size,
            socket_timeout=settings.db_timeout_seconds,
            # the server gives up first, so its answer arrives before our socket times out
            statement_timeout_ms=int(settings.db_timeout_seconds * 800),
        )
    except (InvalidDatabaseUrl, ValueError) as error:
        raise ConfigurationError(f"KEYMANAGER_DB_URL: {error}") from None


def derived_config(settings: Settings) -> dict[str, object]:
    """The configuration values computed from the settings rather than set by one of them: paths
    under the data directory, the PostgreSQL options, and the keystore secrets, read from their
    files or generated (entrypoints/secret_files.py). Checked here, so a bad combination fails at
    start. The keys are not Settings field names (tests/unit/test_settings.py checks it)."""
    if settings.keystore == "pkcs11" and not settings.pkcs11_token_label:
        raise ConfigurationError("KEYMANAGER_KEYSTORE=pkcs11 needs PKCS11_TOKEN_LABEL (and PKCS11_MODULE)")
    return {
        "sqlite_path": settings.sqlite_path,
        "keystore_dir": settings.keystore_dir,
        "postgres_options": postgres_options(settings),
        "pkcs12_password": keystore_password(settings) if settings.keystore == "pkcs12" else b"",
        "pkcs11_user_pin": pkcs11_pin(settings) if settings.keystore == "pkcs11" else "",
    }


def check_keystore_algorithms(container: Container, settings: Settings) -> None:
    """KEYMANAGER_ED25519_IN_KEYSTORE with an HSM that cannot make or use Ed25519 keys is a
    configuration error, reported at start rather than at the first generateECSignKey. A token
    that cannot be reached now is left to the first request (and to the health check)."""
    if not (settings.ed25519_in_keystore and settings.keystore == "pkcs11"):
        return
    try:
        missing = container.keystore().missing_mechanisms(KeyAlgorithm.ED25519)
    except (KeystoreError, KeystoreUnavailableError):
        return
    if missing:
        raise ConfigurationError(
            f"KEYMANAGER_ED25519_IN_KEYSTORE=true, but the PKCS#11 token '{settings.pkcs11_token_label}' "
            f"offers no {' and no '.join(missing)}: it cannot hold Ed25519 signing keys (set it to false to keep "
            "them in the database)"
        )


def build_container(settings: Settings, *, upgrade: bool | None = None) -> Container:
    """The container for these settings. The store's schema is brought up to date
    unless ``upgrade`` is False (or, for PostgreSQL, KEYMANAGER_DB_AUTO_UPGRADE=false)."""
    container = Container()
    container.config.from_dict(settings.as_config() | derived_config(settings))
    check_keystore_algorithms(container, settings)
    if upgrade is None:
        upgrade = settings.store == "sqlite" or settings.db_auto_upgrade
    if upgrade and settings.store != "memory":
        container.database().upgrade()
    return container
