"""The reference Java service's PKCS#12 keystore, made by the JDK for the import tests.

keytool makes the key pairs and certificates (ROOT self-signed; a module key, KERNEL/SIGN and a
base key issued as the reference issues them), then tests/support/java/MakeKeystore.java (run as a
single-file source program) leaves the file the way PKCS12KeyStoreImpl does (chains of one
certificate, the ZK master key as an AES-256 secret-key entry, one password for the file and every
entry) and encrypts test data to those keys with the JDK. Every alias is a random lower-case UUID,
as the reference names keystore entries (key_alias.id).

java and keytool come from the PATH; tests/support/ensure_jdk.sh is tried once when either is
missing, then the test fails under CI=true or skips elsewhere (``require_jdk``).
"""
from __future__ import annotations

import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.required import missing_backend

ENSURE_JDK = Path(__file__).with_name("ensure_jdk.sh")
MAKE_KEYSTORE = Path(__file__).with_name("java") / "MakeKeystore.java"
TIMEOUT = 180
DNAME = "OU=MOSIP-TECH-CENTER, O=IITB, L=BANGALORE, ST=KA, C=IN"

_checked = False


def require_jdk() -> None:
    """java and keytool on the PATH: installed once by tests/support/ensure_jdk.sh if missing."""
    global _checked
    if not _checked and (shutil.which("java") is None or shutil.which("keytool") is None):
        subprocess.run(["bash", str(ENSURE_JDK)], capture_output=True, timeout=900, check=False)
    _checked = True
    if shutil.which("java") is None or shutil.which("keytool") is None:
        missing_backend("a JDK (java and keytool)")


@dataclass(frozen=True)
class ReferenceKeystore:
    """A keystore file as the reference leaves it, and what the JDK encrypted to its keys."""

    path: Path
    password: str
    password_file: Path
    #: role -> keystore alias: ROOT, REGISTRATION (a module key), KERNEL_SIGN, ZK_MASTER; and BASE,
    #: the base key that is NOT in the keystore (wrapped by REGISTRATION, as key_store holds it).
    aliases: dict[str, str]
    #: MakeKeystore.java's outputs (see there).
    data: dict[str, str] = field(repr=False)

    def keystore_aliases(self) -> set[str]:
        return {alias for role, alias in self.aliases.items() if role != "BASE"}


def keytool(path: Path, password_file: Path, *args: str, stdin: bytes | None = None,
            legacy: bool = False) -> bytes:
    """keytool on the PKCS#12 file ``path`` (store and key password from ``password_file``)."""
    command = ["keytool", *(["-J-Dkeystore.pkcs12.legacy"] if legacy else []), *args, "-storetype", "PKCS12",
               "-keystore", str(path), "-storepass:file", str(password_file)]
    done = subprocess.run(command, input=stdin, capture_output=True, timeout=TIMEOUT)
    if done.returncode != 0:
        raise AssertionError(f"keytool {args[0]} failed: {done.stdout.decode(errors='replace')}"
                             f"{done.stderr.decode(errors='replace')}")
    return done.stdout


def make_reference_keystore(directory: Path, password: str, *, legacy: bool = False) -> ReferenceKeystore:
    """The reference's keystore in ``directory``: JDK 17's default PKCS#12 format (PBES2 with
    PBKDF2-HMAC-SHA256 and AES-256-CBC, HmacPBESHA256 MAC), or with ``legacy`` the format of JDKs
    before 11.0.12 (PBE-SHA1-3DES keys, PBE-SHA1-RC2-40 certificates, SHA-1 MAC)."""
    require_jdk()
    directory.mkdir(parents=True, exist_ok=True)
    path, password_file = directory / "keystore.p12", directory / "keystore.password"
    password_file.write_text(password + "\n", encoding="utf-8")
    aliases = {role: str(uuid.uuid4()) for role in ("ROOT", "REGISTRATION", "KERNEL_SIGN", "BASE", "ZK_MASTER")}

    def run(*args: str, stdin: bytes | None = None) -> bytes:
        return keytool(path, password_file, *args, stdin=stdin, legacy=legacy)

    def key_pair(role: str, common_name: str, *extensions: str) -> None:
        run("-genkeypair", "-alias", aliases[role], "-keyalg", "RSA", "-keysize", "2048", "-sigalg",
            "SHA256withRSA", "-dname", f"CN={common_name}, {DNAME}", "-validity", "1095",
            "-keypass:file", str(password_file), *extensions)

    def issue(role: str, issuer: str, *extensions: str) -> None:
        request = run("-certreq", "-alias", aliases[role])
        certificate = run("-gencert", "-alias", aliases[issuer], "-validity", "1095", "-sigalg", "SHA256withRSA",
                          *extensions, stdin=request)
        run("-importcert", "-alias", aliases[role], "-noprompt", stdin=certificate)

    ca = ("-ext", "BasicConstraints:critical=ca:true,pathlen:1",
          "-ext", "KeyUsage:critical=keyCertSign,cRLSign,digitalSignature,keyEncipherment")
    key_pair("ROOT", "ROOT", "-ext", "BasicConstraints:critical=ca:true,pathlen:2",
             "-ext", "KeyUsage:critical=keyCertSign,cRLSign,digitalSignature")
    for role, name in (("REGISTRATION", "REGISTRATION"), ("KERNEL_SIGN", "KERNEL-SIGN"), ("BASE", "REGISTRATION-BASE")):
        key_pair(role, name)
    issue("REGISTRATION", "ROOT", *ca)
    issue("KERNEL_SIGN", "ROOT", *ca)
    issue("BASE", "REGISTRATION", "-ext", "KeyUsage:critical=keyEncipherment,dataEncipherment")

    output = directory / "jdk-data.txt"
    command = ["java", *(["-Dkeystore.pkcs12.legacy"] if legacy else []), str(MAKE_KEYSTORE), str(path),
               str(password_file), str(output), aliases["REGISTRATION"], aliases["BASE"], aliases["ZK_MASTER"]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    if done.returncode != 0:
        raise AssertionError(f"MakeKeystore.java failed: {done.stdout}{done.stderr}")
    data = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines() if "=" in line)
    return ReferenceKeystore(path, password, password_file, aliases, data)
