"""``keymanager keystore import`` against the JDK (issue 16): the reference Java service's PKCS#12
keystore, made by keytool and a JDK program as PKCS12KeyStoreImpl leaves it (tests/support/jdk.py),
imported by the real command into our PKCS#12 directory and into a SoftHSM2 token; then the
key_alias / key_store rows an existing mosip_keymgr database holds are added, and data the JDK
encrypted to those keys decrypts through /decrypt: to the module key itself (blank referenceId),
to a base key whose private key the JDK wrapped with the module key, and the ZK pool key the JDK
wrapped with the ZK master key. Both the JDK 17 default format and the legacy one.

Then the refusals, each leaving the keystore as it was: a wrong password, a damaged file, an entry
of a kind the key manager does not hold (a trusted certificate, an HMAC key), and an alias taken
by another key.
"""
from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from application.ports.keystore import SignatureScheme
from domain.keys import KeyAlias, KeyTuple, StoredKey
from domain.zk import ZkPoolRow
from entrypoints.containers import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support import containers as support
from tests.support.http_api import b64url_decode, crypto_request, ok, post
from tests.support.jdk import ReferenceKeystore, keytool, make_reference_keystore
from tests.support.pkcs11 import own_session, token_private_key_attributes
from tests.support.repo import REPO_ROOT, child_process_env

pytestmark = pytest.mark.slow

PASSWORD = "mosip keystore-pass 1234"  # the reference's keystore-pass (JDK PBES2 takes ASCII only)
OUR_PASSWORD = "our-pkcs12-directory-password"
BASE_REF = "10001_110011"
TIMEOUT = 120


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> ReferenceKeystore:
    return make_reference_keystore(tmp_path_factory.mktemp("jdk17"), PASSWORD)


@pytest.fixture(scope="module")
def legacy_reference(tmp_path_factory) -> ReferenceKeystore:
    return make_reference_keystore(tmp_path_factory.mktemp("jdk-legacy"), PASSWORD, legacy=True)


# -- deployments -----------------------------------------------------------------------------------


class Deployment:
    """Our service on SQLite with the PKCS#12 directory or the token, driven by the real command."""

    def __init__(self, data_dir: Path, token: dict[str, str] | None = None) -> None:
        self.data_dir, self.token = data_dir, token

    def settings(self) -> Settings:
        if self.token:
            return support.pkcs11_settings(self.data_dir, self.token)
        return support.sqlite_settings(self.data_dir, password=OUR_PASSWORD)

    def env(self) -> dict[str, str]:
        if self.token:  # SOFTHSM2_CONF comes from this process's environment (the token fixture)
            return child_process_env(KEYMANAGER_DATA_DIR=str(self.data_dir), KEYMANAGER_STORE="sqlite",
                                     KEYMANAGER_KEYSTORE="pkcs11", PKCS11_MODULE=self.token["module"],
                                     PKCS11_TOKEN_LABEL=self.token["label"], PKCS11_TOKEN_PIN=self.token["pin"])
        return child_process_env(KEYMANAGER_DATA_DIR=str(self.data_dir), KEYMANAGER_STORE="sqlite",
                                 KEYMANAGER_KEYSTORE="pkcs12", KEYMANAGER_KEYSTORE_PASSWORD=OUR_PASSWORD)

    def run_import(self, path: Path, *, password_file: Path | None = None,
                   stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "entrypoints.cli", "keystore", "import", str(path)]
        if password_file is not None:
            command += ["--password-file", str(password_file)]
        done = subprocess.run(command, cwd=REPO_ROOT, env=self.env(), input=stdin or "", capture_output=True,
                              text=True, timeout=TIMEOUT)
        for secret in (PASSWORD, OUR_PASSWORD, *([self.token["pin"]] if self.token else [])):
            assert secret not in done.stdout + done.stderr
        return done

    def container(self) -> Container:
        return support.make_container(self.settings())

    def keystore_aliases(self) -> set[str]:
        return set(self.container().keystore().aliases())


@pytest.fixture
def directory(tmp_path: Path) -> Deployment:
    return Deployment(tmp_path / "data")


@pytest.fixture
def token(tmp_path: Path, softhsm_token) -> Deployment:
    deployment = Deployment(tmp_path / "data", softhsm_token)
    keystore = deployment.container().keystore()
    for alias in keystore.aliases():  # the session's token: start empty
        keystore.delete(alias)
    return deployment


def listed(stdout: str) -> dict[str, tuple[str, str, str]]:
    """alias -> (kind, state, key) from the command's table."""
    rows = {}
    for line in stdout.splitlines()[1:]:
        parts = [part for part in line.split("  ") if part.strip()]
        if len(parts) == 4:
            rows[parts[0].strip()] = (parts[1].strip(), parts[2].strip(), parts[3].strip())
    return rows


# -- what an existing mosip_keymgr database holds --------------------------------------------------


def thumbprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest().upper()


def add_reference_rows(container: Container, ref: ReferenceKeystore) -> None:
    """The key_alias rows of the reference's keys (and the key_store row of the base key), as the
    reference wrote them: the keystore alias is key_alias.id."""
    keystore, aliases, data = container.keystore(), ref.aliases, ref.data
    issued, expires = datetime.now(UTC) - timedelta(days=30), datetime.now(UTC) + timedelta(days=700)

    def row(role: str, key_tuple: KeyTuple, thumb: str | None) -> KeyAlias:
        return KeyAlias(aliases[role], key_tuple, issued, expires, thumb)

    def cert_thumbprint(role: str) -> str:
        der = keystore.certificate(aliases[role])
        assert der is not None
        return thumbprint(der)

    base_der = base64.b64decode(data["base.certificate"])
    base_pem = x509.load_der_x509_certificate(base_der).public_bytes(serialization.Encoding.PEM).decode()
    with container.uow_factory()() as uow:
        uow.keys.add_alias(row("ROOT", KeyTuple("ROOT"), cert_thumbprint("ROOT")))
        uow.keys.add_alias(row("REGISTRATION", KeyTuple("REGISTRATION"), data["module.thumbprint"]))
        uow.keys.add_alias(row("KERNEL_SIGN", KeyTuple("KERNEL", "SIGN"), cert_thumbprint("KERNEL_SIGN")))
        uow.keys.add_alias(row("ZK_MASTER", KeyTuple("KERNEL", "IDENTITY_CACHE"), None))
        uow.keys.add_alias(row("BASE", KeyTuple("REGISTRATION", BASE_REF), data["base.thumbprint"]))
        uow.keys.add_stored_key(StoredKey(aliases["BASE"], aliases["REGISTRATION"], data["base.wrapped"], base_pem))
        uow.zk.add_rows([ZkPoolRow(0, data["zk.wrapped"])])  # a pool row the reference made (no check value)
        uow.commit()


def assert_old_data_decrypts(deployment: Deployment, ref: ReferenceKeystore) -> None:
    container = deployment.container()
    add_reference_rows(container, ref)
    client = create_app(deployment.settings(), container).test_client()
    data = ref.data

    def decrypt(envelope: str, app: str, ref_id: str) -> bytes:
        return b64url_decode(ok(post(client, "/decrypt", crypto_request(envelope, app=app, ref=ref_id)))["data"])

    # To the module master key itself (blank referenceId: mosip-api.md §14 item 4).
    assert decrypt(data["module.envelope"], "REGISTRATION", "") == b64url_decode(data["module.plaintext"])
    # To a base key whose private key the JDK wrapped with the module key (key_store.private_key).
    assert decrypt(data["base.envelope"], "REGISTRATION", BASE_REF) == b64url_decode(data["base.plaintext"])
    # The ZK pool key the JDK wrapped with the ZK master key (data_encrypt_keystore.key).
    assert container.zk_keys().random_key(0) == bytes.fromhex(data["zk.random"])
    # KERNEL/SIGN signs under the certificate ROOT issued to it.
    sign = ref.aliases["KERNEL_SIGN"]
    certificate = x509.load_der_x509_certificate(container.keystore().certificate(sign) or b"")
    assert certificate.subject.rfc4514_string().startswith("CN=KERNEL-SIGN")
    signature = container.keystore().sign(sign, b"payload", SignatureScheme.RSA_PKCS1_SHA256)
    certificate.public_key().verify(signature, b"payload", padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]


# -- the import --------------------------------------------------------------------------------------


def test_import_into_the_pkcs12_directory_then_old_data_decrypts(reference: ReferenceKeystore,
                                                                 directory: Deployment) -> None:
    done = directory.run_import(reference.path, password_file=reference.password_file)
    assert done.returncode == 0, done.stderr
    aliases = reference.aliases
    assert listed(done.stdout) == {
        aliases["ROOT"]: ("key pair (RSA-2048)", "imported", "(no key_alias row)"),
        aliases["REGISTRATION"]: ("key pair (RSA-2048)", "imported", "(no key_alias row)"),
        aliases["KERNEL_SIGN"]: ("key pair (RSA-2048)", "imported", "(no key_alias row)"),
        aliases["ZK_MASTER"]: ("secret key (AES-256)", "imported", "(no key_alias row)"),
    }
    assert "4 imported, 0 already present" in done.stdout
    assert directory.keystore_aliases() == reference.keystore_aliases()

    assert_old_data_decrypts(directory, reference)

    # Again, the password on standard input this time: everything is there already, and now named.
    again = directory.run_import(reference.path, stdin=PASSWORD + "\n")
    assert again.returncode == 0, again.stderr
    assert listed(again.stdout) == {
        aliases["ROOT"]: ("key pair (RSA-2048)", "already present", "ROOT"),
        aliases["REGISTRATION"]: ("key pair (RSA-2048)", "already present", "REGISTRATION"),
        aliases["KERNEL_SIGN"]: ("key pair (RSA-2048)", "already present", "KERNEL:SIGN"),
        aliases["ZK_MASTER"]: ("secret key (AES-256)", "already present", "KERNEL:IDENTITY_CACHE"),
    }
    assert "0 imported, 4 already present" in again.stdout
    records = [r for r in directory.container().audit_log().records() if r.operation == "importKey"]
    assert sorted(r.key_alias for r in records) == sorted(reference.keystore_aliases())
    assert {r.subject for r in records} == {f"cli:{_user()}"}


def test_the_legacy_format_imports_too(legacy_reference: ReferenceKeystore, directory: Deployment) -> None:
    """3DES-encrypted keys, RC2-40-encrypted certificates, a SHA-1 MAC: JDKs before 11.0.12."""
    done = directory.run_import(legacy_reference.path, password_file=legacy_reference.password_file)
    assert done.returncode == 0, done.stderr
    assert "4 imported, 0 already present" in done.stdout
    assert_old_data_decrypts(directory, legacy_reference)


def test_import_into_a_softhsm_token_then_old_data_decrypts(reference: ReferenceKeystore, token: Deployment) -> None:
    done = token.run_import(reference.path, password_file=reference.password_file)
    assert done.returncode == 0, done.stderr
    assert "4 imported, 0 already present" in done.stdout
    assert token.keystore_aliases() == reference.keystore_aliases()
    assert token.token is not None
    for role in ("ROOT", "REGISTRATION", "KERNEL_SIGN"):
        attributes = token_private_key_attributes(token.token, reference.aliases[role])
        assert attributes is not None
        assert attributes["sensitive"] and not attributes["extractable"] and not attributes["exponent_readable"]
    from pkcs11 import Attribute, ObjectClass

    with own_session(token.token) as session:
        (secret,) = session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                         Attribute.ID: reference.aliases["ZK_MASTER"].encode()})
        assert secret[Attribute.SENSITIVE] and not secret[Attribute.EXTRACTABLE]

    assert_old_data_decrypts(token, reference)

    again = token.run_import(reference.path, password_file=reference.password_file)
    assert again.returncode == 0, again.stderr
    assert "0 imported, 4 already present" in again.stdout


# -- refusals: nothing changes -----------------------------------------------------------------------


def test_a_wrong_password_is_refused_and_creates_nothing(reference: ReferenceKeystore, directory: Deployment,
                                                         tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not the keystore-pass\n")
    done = directory.run_import(reference.path, password_file=wrong)
    assert done.returncode == 1
    assert "the keystore password is wrong; nothing imported" in done.stderr
    assert not directory.data_dir.exists()  # refused before the store or the keystore was even opened


def test_a_damaged_file_is_refused(reference: ReferenceKeystore, directory: Deployment, tmp_path: Path) -> None:
    data = bytearray(reference.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged = tmp_path / "damaged.p12"
    damaged.write_bytes(bytes(data))
    done = directory.run_import(damaged, password_file=reference.password_file)
    assert done.returncode == 1
    assert "the file is damaged" in done.stderr and "nothing imported" in done.stderr
    truncated = tmp_path / "truncated.p12"
    truncated.write_bytes(bytes(data[:1000]))
    done = directory.run_import(truncated, password_file=reference.password_file)
    assert done.returncode == 1 and "nothing imported" in done.stderr
    assert not directory.data_dir.exists()


@pytest.mark.parametrize("extra", ["trusted certificate", "HMAC key"])
def test_an_entry_of_a_kind_we_do_not_hold_refuses_the_file(reference: ReferenceKeystore, directory: Deployment,
                                                            tmp_path: Path, extra: str) -> None:
    copy = tmp_path / "keystore.p12"
    shutil.copy(reference.path, copy)
    if extra == "trusted certificate":
        certificate_pem = tmp_path / "root.pem"
        certificate_pem.write_bytes(keytool(copy, reference.password_file, "-exportcert", "-rfc", "-alias",
                                            reference.aliases["ROOT"]))
        keytool(copy, reference.password_file, "-importcert", "-noprompt", "-alias", "partner-ca", "-file",
                str(certificate_pem))
        alias, why = "partner-ca", "a trusted certificate entry"
    else:
        keytool(copy, reference.password_file, "-genseckey", "-alias", "hmac-key", "-keyalg", "HmacSHA256",
                "-keysize", "256", "-keypass:file", str(reference.password_file))
        alias, why = "hmac-key", "a HmacSHA256 secret key (256 bits): only AES keys are held"
    directory.container().keystore()  # an existing, empty keystore: it stays so
    done = directory.run_import(copy, password_file=reference.password_file)
    assert done.returncode == 1
    assert "the keystore cannot be imported; nothing imported" in done.stderr
    assert f"  {alias}: {why}" in done.stderr
    assert directory.keystore_aliases() == set()


def test_an_alias_taken_by_another_key_refuses_the_file(reference: ReferenceKeystore, directory: Deployment) -> None:
    keystore = directory.container().keystore()
    keystore.generate_secret_key(reference.aliases["ZK_MASTER"])  # same alias, another AES key
    done = directory.run_import(reference.path, password_file=reference.password_file)
    assert done.returncode == 1
    assert f"  {reference.aliases['ZK_MASTER']}: the alias is taken here by a different secret key" in done.stderr
    assert directory.keystore_aliases() == {reference.aliases["ZK_MASTER"]}


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
