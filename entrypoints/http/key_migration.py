"""KeyMigratorController: moving base keys and ZK pool keys in from another Key Manager deployment."""
from __future__ import annotations

from flask import Response

from application.use_cases.key_migration.migrate_base_key import MigrateBaseKey, MigrateBaseKeyCommand
from application.use_cases.key_migration.migrate_zk_keys import MigrateZkKeys, MigrateZkKeysCommand
from application.use_cases.key_migration.zk_temp_certificate import GetZkTempCertificate

from . import responses
from .audit import note_key
from .envelope import format_instant, format_local, success
from .routes import Controller
from .schemas import MigrateBaseKeyRequest, ZkKeyMigrateRequest

api = Controller("key_migration", tag="key-migrate-controller")
blueprint = api.blueprint


@api.post("/migrateBaseKey", summary="Store a base key of another deployment, its private key already wrapped for "
          "this deployment's current master key of the application (or NA: a certificate only)",
          role="postmigratebasekey", audit="migrateBaseKey", request=MigrateBaseKeyRequest,
          response=responses.StatusResponse, use_case="migrate_base_key")
def migrate_base_key(dto: MigrateBaseKeyCommand, use_case: MigrateBaseKey) -> Response:
    result = use_case.execute(dto)
    note_key(alias=result.alias, thumbprint_hex=result.thumbprint)  # the key, never its data
    return success({"status": result.status, "timestamp": format_local(result.timestamp)})


@api.get("/getZKTempCertificate", summary="The certificate ZK pool keys are encrypted to for migrateZKKeys (a "
         "temporary RSA-2048 key, valid one day, made when there is none)", role="getzktempcertificate",
         audit="getZKTempCertificate", response=responses.ZkTempCertificateResponse,
         use_case="get_zk_temp_certificate")
def get_zk_temp_certificate(use_case: GetZkTempCertificate) -> Response:
    result = use_case.execute()
    note_key(alias=result.alias, thumbprint_hex=result.thumbprint)
    return success({"certificate": result.certificate_pem, "timestamp": format_instant(result.timestamp)})


@api.post("/migrateZKKeys", summary="Add ZK pool keys of another deployment, each encrypted to the temporary key, "
          "under their indexes; optionally remove the temporary key", role="postmigratezkkeys",
          audit="migrateZKKeys", request=ZkKeyMigrateRequest, response=responses.ZkKeyMigrateResponse,
          use_case="migrate_zk_keys", blocking=True)  # a batch of hundreds of RSA decryptions
def migrate_zk_keys(dto: MigrateZkKeysCommand, use_case: MigrateZkKeys) -> Response:
    result = use_case.execute(dto)
    note_key(alias=result.temp_key_alias, thumbprint_hex=result.temp_key_thumbprint)
    return success(
        {"zkEncryptedDataList": [{"keyIndex": s.key_index, "statusMessage": s.status} for s in result.statuses]}
    )
