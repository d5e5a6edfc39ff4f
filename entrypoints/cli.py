"""The ``keymanager`` command: init (key ceremony), serve, status, db, audit."""
from __future__ import annotations

import argparse
import getpass
import importlib.metadata
import logging
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from application.keys.hierarchy import audit_subject
from application.use_cases.keymanager.generate_master_key import GenerateMasterKeyCommand
from application.use_cases.keystore.import_keystore import (
    ImportKeystoreCommand,
    ImportState,
    KeystoreImportError,
    read_keystore_file,
)
from domain.audit import verify_chain
from domain.current_key import current_aliases, pre_expire_days
from domain.errors import KeyManagerError

from .containers import Container, build_container
from .log_format import configure_logging
from .secret_files import KEYSTORE_PASSWORD_FILE
from .settings import ConfigurationError, Settings

log = logging.getLogger("keymanager")


def parse_key_spec(spec: str) -> tuple[str, str]:
    """'APP' or 'APP:REF' (the reference's autogen list syntax)."""
    app, _, ref = spec.partition(":")
    return app.strip(), ref.strip()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no USER variable and no passwd entry (some containers)
        return "unknown"


def run_init(container: Container, settings: Settings, out=sys.stdout) -> int:
    """The key ceremony: ROOT, then the configured module keys. Idempotent."""
    use_case = container.generate_master_key()
    acting = audit_subject.set(f"cli:{_os_user()}")
    try:
        return _ceremony(container, settings, use_case, out)
    finally:
        audit_subject.reset(acting)


def _ceremony(container: Container, settings: Settings, use_case: Any, out: Any) -> int:
    failures = 0
    for spec in settings.init_keys:
        app, ref = parse_key_spec(spec)
        try:  # each key the ceremony makes is recorded in its own transaction (subject: cli:<OS user>)
            result = use_case.execute(GenerateMasterKeyCommand(app_id=app, ref_id=ref))
        except KeyManagerError as error:
            failures += 1
            print(f"{spec:<28} FAILED  {error.code} {error.message}", file=out)
            continue
        state = "created" if result.created else "exists "
        print(f"{spec:<28} {state} expires {result.expiry_at:%Y-%m-%d}", file=out)
    if settings.zk_pool_size and run_zk_init(container, settings.zk_pool_size, out=out):
        failures += 1
    return 1 if failures else 0


class ProgressBar:
    """`[#####.....] 5000/10000` redrawn in place on a terminal; a line per tenth otherwise."""

    WIDTH = 30

    def __init__(self, out=sys.stderr) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        total = max(total, 1)
        filled = min(self.WIDTH, self.WIDTH * done // total)
        text = f"ZK key pool [{'#' * filled}{'.' * (self.WIDTH - filled)}] {min(done, total)}/{total}"
        if self.tty:
            print("\r" + text, end="" if done < total else "\n", file=self.out, flush=True)
        elif (tenth := 10 * min(done, total) // total) != self._last_tenth:
            self._last_tenth = tenth
            print(text, file=self.out, flush=True)


def run_zk_init(container: Container, size: int, out=sys.stdout, progress=None) -> int:
    """The ZK master key (KERNEL/IDENTITY_CACHE) and the pool of random keys: idempotent, and
    resumable: each batch commits, so an interrupted run continues where it stopped."""
    try:
        result = container.init_zk_pool().execute(size, progress or ProgressBar())
    except KeyManagerError as error:
        print(f"{'ZK key pool':<28} FAILED  {error.code} {error.message}", file=out)
        return 1
    master = "master key created, " if result.master_created else ""
    print(f"{'ZK key pool':<28} {master}{result.created} keys added, {result.total} in the pool", file=out)
    return 0


def run_status(container: Container, out=sys.stdout, settings: Settings | None = None) -> int:
    health = container.keystore().health()
    now = container.clock().now()
    print(f"keystore: {'ok' if health.ok else 'UNAVAILABLE'} ({health.detail})", file=out)
    if settings is not None:
        print(f"auth: {settings.auth_summary()}", file=out)
    rows = []
    with container.uow_factory()() as uow:
        aliases = uow.keys.all_aliases()
        windows: dict[tuple[str, str], int] = {}
        for alias in aliases:
            if alias.key_tuple not in windows:
                windows[alias.key_tuple] = pre_expire_days(alias.key_tuple, uow.keys.policy)
            window = windows[alias.key_tuple]
            current = bool(current_aliases([alias], now, window))
            rows.append(
                (alias.app_id, alias.ref_id or "-", f"{alias.generated_at:%Y-%m-%d %H:%M}",
                 f"{alias.expires_at:%Y-%m-%d %H:%M}", "yes" if current else "no", alias.alias)
            )
    header = ("APP", "REF", "ISSUED (UTC)", "EXPIRES (UTC)", "CURRENT", "ALIAS")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip(), file=out)
    if not rows:
        print("(no keys yet: run 'keymanager init')", file=out)
    missing = container.zk_encrypt().missing_public_keys()
    if missing:  # information, not a failure: the decrypting partner uploads it (README quick start)
        print(f"zk public keys missing: {', '.join(missing)} (zkEncrypt answers KER-ZKC-002 until each is "
              "uploaded with uploadOtherDomainCertificate)", file=out)
    return 0 if health.ok else 1


def run_db(container: Container, settings: Settings, action: str, out=sys.stdout) -> int:
    database = container.database()
    if database is None:
        print(f"store '{settings.store}' has no schema", file=out)
        return 0
    if action == "upgrade":
        applied = database.upgrade()
        print(f"applied migrations: {applied or 'none (up to date)'}", file=out)
    print(f"schema version: {database.schema_version()}", file=out)
    return 0


def run_audit(container: Container, action: str, limit: int = 20, out=sys.stdout) -> int:
    """``verify``: walk the whole chain (exit 0 intact, 1 broken, naming the first broken
    sequence number); ``list``: the last ``limit`` records, oldest first."""
    audit_log = container.audit_log()
    if action == "verify":
        verdict = verify_chain(audit_log.records())
        if verdict.intact:
            # The head, to anchor elsewhere: a later verify that ends before it shows a cut tail.
            print(f"audit trail intact: {verdict.count} records; head sequence {verdict.count} hash {verdict.head}",
                  file=out)
            return 0
        print(
            f"audit trail BROKEN at sequence {verdict.broken_at}: {verdict.reason} "
            f"({verdict.count - 1} records verified before it)",
            file=out,
        )
        return 1
    rows = [
        (str(r.sequence), r.timestamp, r.subject or "-", r.operation, r.app_id or "-", r.ref_id or "-",
         r.thumbprint or r.key_alias or "-", r.outcome)
        for r in audit_log.latest(limit)
    ]
    header = ("SEQ", "TIME (UTC)", "SUBJECT", "OPERATION", "APP", "REF", "KEY", "OUTCOME")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip(), file=out)
    if not rows:
        print("(no audit records yet)", file=out)
    return 0


# -- admin console (issue 17) --


def run_policy_list(container: Container, out=sys.stdout) -> int:
    """``policy list``: every key policy (application, validity, pre-expiry days, access_allowed, active)."""
    rows = [(p.app_id, str(p.validity_days), str(p.pre_expire_days), p.access_allowed or "", "yes" if p.is_active
             else "no") for p in container.list_key_policies().execute()]
    header = ("APP", "VALIDITY DAYS", "PRE-EXPIRE DAYS", "ACCESS ALLOWED", "ACTIVE")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip(), file=out)
    return 0


def run_policy_set(container: Container, app: str, validity_days: int, pre_expire_days: int,
                   access_allowed: str, out=sys.stdout) -> int:
    """``policy set APP``: validated like PUT admin/api/policies/{app}; recorded in the audit trail
    (setKeyPolicy, subject cli:<OS user>) in the transaction that writes it. Exit 1 when refused."""
    from application.use_cases.admin.key_policies import SetKeyPolicyCommand
    from domain.errors import ValidationError

    names = tuple(name.strip() for name in access_allowed.split(","))
    try:
        result = container.set_key_policy().execute(SetKeyPolicyCommand(app, validity_days, pre_expire_days, names))
    except ValidationError as error:
        for message in error.messages:
            print(f"keymanager: {message.removeprefix('Invalid request: ')}", file=sys.stderr)
        return 1
    policy = result.policy
    print(f"{policy.app_id}: {'created' if result.created else 'updated'}; validity {policy.validity_days} days, "
          f"pre-expiry {policy.pre_expire_days} days, access allowed {policy.access_allowed} (the next key follows it)",
          file=out)
    return 0


def run_serve(settings: Settings) -> int:
    from .server.metrics_dir import prepare_metrics_dir

    prepare_metrics_dir(settings)  # before anything imports prometheus_client (the workers inherit it)
    from .server.run import runs_inline, serve

    print(
        f"keymanager: serving http://{settings.host}:{settings.port}/v1/keymanager "
        f"(store={settings.store}, keystore={settings.keystore}, data={settings.data_dir}, auth={settings.auth_mode}, "
        f"workers={settings.workers}, requests {'inline' if runs_inline(settings) else 'in threads'}); "
        f"console http://{settings.host}:{settings.port}/v1/keymanager/admin/",
        flush=True,
    )
    serve(settings)
    return 0


#: What each command reads from the environment (the README's Configuration has them all).
STORE_ENV = ("KEYMANAGER_DATA_DIR", "KEYMANAGER_STORE", "KEYMANAGER_DB_URL")
KEYSTORE_ENV = (
    "KEYMANAGER_KEYSTORE", "KEYMANAGER_KEYSTORE_DIR", "KEYMANAGER_KEYSTORE_PASSWORD[_FILE]",
    "PKCS11_MODULE", "PKCS11_TOKEN_LABEL", "PKCS11_TOKEN_PIN[_FILE]",
)
INIT = "; run `keymanager init` to create one"


def _add(commands: Any, name: str, summary: str, description: str, *env: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=summary, description=description, epilog="environment: " + ", ".join(env))


def _version() -> str:
    try:
        return importlib.metadata.version("keymanager")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keymanager", description="MOSIP-compatible key manager")
    parser.add_argument("--version", action="version", version=f"keymanager {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add(commands, "init", "one-time key ceremony: ROOT, then the configured module keys",
         "Run the key ceremony: ROOT, then the keys of KEYMANAGER_INIT_KEYS, then the ZK key pool. Idempotent; "
         "creates the store and the keystore when absent.",
         *STORE_ENV, *KEYSTORE_ENV, "KEYMANAGER_INIT_KEYS", "KEYMANAGER_ZK_POOL_SIZE", "KEYMANAGER_CERT_*")
    serve = _add(commands, "serve", "serve the HTTP API (initialises on first start)",
                 "Serve the HTTP API under /v1/keymanager with granian; runs the key ceremony first (creating the "
                 "store and the keystore when absent) unless KEYMANAGER_AUTO_INIT=false.",
                 *STORE_ENV, *KEYSTORE_ENV, "KEYMANAGER_HOST", "KEYMANAGER_PORT", "KEYMANAGER_WORKERS",
                 "KEYMANAGER_AUTH", "KEYMANAGER_OIDC_*", "KEYMANAGER_AUTO_INIT", "and the others in the README")
    serve.add_argument("--port", type=int, help="overrides KEYMANAGER_PORT")
    serve.add_argument("--host", help="overrides KEYMANAGER_HOST")
    _add(commands, "status", "list keys and whether each is current",
         "List the keys (issued, expires, current or not), the keystore's health and the authentication mode. "
         "Read-only: exit 2 when there is no key store.",
         *STORE_ENV, *KEYSTORE_ENV, "KEYMANAGER_AUTH")
    database = commands.add_parser("db", help="database maintenance", description="Schema of the key store's "
                                   "database (the keystore is not opened).")
    db_actions = database.add_subparsers(dest="action", required=True)
    _add(db_actions, "upgrade", "apply pending schema migrations",
         "Apply pending schema migrations (creating the store when absent), then print the schema version.",
         *STORE_ENV, "KEYMANAGER_DB_TIMEOUT_SECONDS")
    _add(db_actions, "version", "show the schema version",
         "Print the schema version. Read-only: exit 2 when there is no key store.", *STORE_ENV)
    audit = commands.add_parser("audit", help="the hash-chained audit trail", description="The hash-chained "
                                "audit trail kept with the key store (the keystore is not opened). Read-only: exit 2 "
                                "when there is no key store.")
    audit_actions = audit.add_subparsers(dest="action", required=True)
    _add(audit_actions, "verify", "check the whole chain: exit 1 at the first edited/removed/moved record",
         "Check the whole chain and print its head (sequence, hash) to anchor elsewhere; exit 1 naming the first "
         "edited, removed or moved record.", *STORE_ENV)
    audit_list = _add(audit_actions, "list", "show the latest records",
                      "Show the latest audit records, oldest first: who, operation, app/ref, key, outcome.", *STORE_ENV)
    audit_list.add_argument("--limit", type=int, default=20, help="how many records (default 20)")
    zk = commands.add_parser("zk", help="zero-knowledge encryption key pool", description="Zero-knowledge "
                             "encryption key pool.")
    zk_actions = zk.add_subparsers(dest="action", required=True)
    zk_init = _add(zk_actions, "init", "create the ZK master key and the pool (idempotent, resumable)",
                   "Create the ZK master key and the pool of random keys; idempotent, and resumes where an "
                   "interrupted run stopped. Creates the store and the keystore when absent.",
                   *STORE_ENV, *KEYSTORE_ENV, "KEYMANAGER_ZK_POOL_SIZE")
    zk_init.add_argument("--size", type=int, help="pool size (default KEYMANAGER_ZK_POOL_SIZE, 10000)")
    keystore = commands.add_parser("keystore", help="the keystore (PKCS#12 directory or PKCS#11 token)",
                                   description="The configured keystore: the PKCS#12 directory or the PKCS#11 token.")
    keystore_actions = keystore.add_subparsers(dest="action", required=True)
    keystore_import = _add(
        keystore_actions, "import", "import the reference Java service's PKCS#12 keystore (idempotent)",
        "Import every key of the reference Java service's PKCS#12 keystore file (ROOT, module keys, KERNEL/SIGN, "
        "EC signing keys, the ZK master key) into the configured keystore under the same aliases, so that the "
        "key_alias rows of an existing mosip_keymgr database resolve. All or nothing: a wrong password, a damaged "
        "file or an entry of a kind the key manager does not hold stops it before anything is written. Keys already "
        "present are reported as such. Lists aliases and kinds, never key material. The file's password comes from "
        "--password-file, else from standard input (prompted for on a terminal). Exit 1 when refused or failed.",
        *STORE_ENV, *KEYSTORE_ENV)
    keystore_import.add_argument("file", metavar="FILE.p12", type=Path, help="the reference's keystore file")
    keystore_import.add_argument("--password-file", metavar="PATH", type=Path,
                                 help="a file whose first line is the keystore password "
                                      "(mosip.kernel.keymanager.hsm.keystore-pass)")
    config = commands.add_parser("config", help="the configuration as read", description="The configuration "
                                 "as read from the environment and the reference's Spring properties.")
    config_actions = config.add_subparsers(dest="action", required=True)
    config_check = _add(
        config_actions, "check", "list what the reference's configuration maps to, ignores and refuses",
        "Read the reference's Spring properties (KEYMANAGER_SPRING_PROPERTIES or --properties) and Spring's "
        "environment names (MOSIP_KERNEL_...), then list what is mapped to which of our variables (secrets shown "
        "only as set), what is ignored and why, and what is invalid; then check our settings. Read-only: opens "
        "no store or keystore. Exit 1 when something is invalid.",
        "KEYMANAGER_SPRING_PROPERTIES", "Spring's names of the reference's properties", "and ours")
    config_check.add_argument("--properties", metavar="PATH[,PATH]",
                              help="the reference's .properties/.yml files, a later one winning "
                                   "(instead of KEYMANAGER_SPRING_PROPERTIES)")
    # -- admin console (issue 17) --
    policy = commands.add_parser("policy", help="key policies (validity, pre-expiry, access_allowed)",
                                 description="The key policies of key_policy_def (the keystore is not opened). "
                                 "Exit 2 when there is no key store.")
    policy_actions = policy.add_subparsers(dest="action", required=True)
    _add(policy_actions, "list", "list every application's key policy",
         "List every key policy: application, validity and pre-expiry days, access_allowed, active.", *STORE_ENV)
    policy_set = _add(
        policy_actions, "set", "set (or create) an application's key policy; the next key follows it",
        "Set the key policy of APP, creating it when absent: the validity of the keys made from now on, the "
        "pre-expiry window (shorter than the validity) and who may decrypt and sign with them (NA: every caller). "
        "Every instance sharing the store uses it for its next key, without a restart. Recorded in the audit trail "
        "(setKeyPolicy, subject cli:<OS user>). Exit 1 when refused.", *STORE_ENV)
    policy_set.add_argument("app", metavar="APP", help="the application id")
    policy_set.add_argument("--validity-days", type=int, required=True, help="validity of new keys, days")
    policy_set.add_argument("--pre-expire-days", type=int, required=True,
                            help="days before expiry when a key is renewed (less than the validity)")
    policy_set.add_argument("--access-allowed", default="NA", metavar="A,B",
                            help="user names that may use the keys, comma-separated (default NA: every caller)")
    rotate = _add(commands, "rotate", "make the successors of the keys that are due",
                  "Make the successor of every key in its pre-expiry window (ROOT, then module keys, then base "
                  "keys), so that no request pays for key generation. Safe to run on several instances at once: "
                  "each successor is made exactly once. `keymanager serve` does the same every "
                  "KEYMANAGER_ROTATION_INTERVAL_SECONDS. Exit 1 when a key could not be renewed.",
                  *STORE_ENV, *KEYSTORE_ENV)
    rotate.add_argument("--due", action="store_true", required=True,
                        help="the keys whose pre-expiry window has opened")
    rotate.add_argument("--within", type=float, default=0, metavar="DAYS",
                        help="also the keys whose window opens within DAYS: each is retired (expiry now; it keeps "
                             "decrypting) and replaced now")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    acting = audit_subject.set(f"cli:{_os_user()}")  # the subject of the records of keys a command creates
    try:
        return _command(args)
    finally:
        audit_subject.reset(acting)


class NoKeyStore(Exception):
    """A read-only command found no key store where the settings point."""


def read_import_password(password_file: Path | None, stdin: Any = None) -> str:
    """The PKCS#12 file's password: the first line of ``password_file``, else a line of standard
    input (prompted for, without echo, on a terminal). Only the line break is removed: the
    reference uses keystore-pass as it is. Never printed."""
    stdin = stdin or sys.stdin
    if password_file is not None:
        try:
            text = password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise ConfigurationError(f"cannot read the password file {password_file}") from None
        line = text.splitlines()[0] if text.splitlines() else ""
    elif stdin.isatty():
        line = getpass.getpass("keystore password: ")
    else:
        line = stdin.readline().rstrip("\r\n")
    if not line.strip():
        raise ConfigurationError("the keystore password is empty")
    return line


def report_import_refusal(path: Path, error: KeystoreImportError) -> int:
    print(f"keymanager: keystore import of {path}: {error.message}", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def read_import_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigurationError(f"cannot read {path}: {error.strerror}") from None


def run_keystore_import(container: Container, path: Path, command: ImportKeystoreCommand, out=sys.stdout) -> int:
    """``keystore import FILE.p12``: one line per key (alias, kind, imported / already present, and
    the key_alias row's app:ref), then the key_alias rows still without a key. Exit 1 when refused."""
    try:
        result = container.import_keystore().execute(command)
    except KeystoreImportError as error:
        return report_import_refusal(path, error)
    rows = [(key.alias, key.kind, key.state.value, key.key_tuple or "(no key_alias row)") for key in result.keys]
    header = ("ALIAS", "KIND", "STATE", "KEY")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip(), file=out)
    imported = sum(1 for key in result.keys if key.state is ImportState.IMPORTED)
    print(f"{imported} imported, {len(result.keys) - imported} already present "
          f"({container.keystore().health().detail})", file=out)
    if result.unresolved:
        print(f"{len(result.unresolved)} key_alias row(s) name a keystore key that is still missing "
              "(data encrypted to them cannot be decrypted):", file=out)
        for missing in result.unresolved:
            print(f"  {missing.key_tuple}  {missing.alias}", file=out)
    return 0


def run_rotate(container: Container, within_days: float = 0, out=sys.stdout) -> int:
    """``rotate --due [--within DAYS]``: one line per renewed (or failed) tuple; exit 1 when any failed."""
    done = container.rotate_due_keys().execute(timedelta(days=max(0.0, within_days)))
    for rotation in done:
        name = f"{rotation.key_tuple.app_id}:{rotation.key_tuple.ref_id}".rstrip(":")
        if rotation.error_code is None:
            print(f"{name:<40} rotated  {rotation.previous_alias} -> {rotation.new_alias}", file=out)
        else:
            print(f"{name:<40} FAILED   {rotation.error_code}", file=out)
    if not done:
        print("no key is due", file=out)
    return 1 if any(r.error_code for r in done) else 0


def is_read_only(args: argparse.Namespace) -> bool:
    """Only init, serve, db upgrade, zk init and keystore import may create a key store."""
    return args.command in ("status", "audit") or (args.command == "db" and args.action == "version")


def needs_existing_store(args: argparse.Namespace) -> bool:
    """Commands that change keys but must not start a new hierarchy in an empty directory."""
    return is_read_only(args) or args.command in ("rotate", "policy")


def missing_key_store(settings: Settings, *, keystore: bool) -> str | None:
    """Why a read-only command would have to create something, or None. Checked before the
    container is built: building it creates the SQLite file, the keystore directory and the
    generated keystore password, the start of a second, unrelated key hierarchy."""
    if settings.store == "sqlite" and not settings.sqlite_path.is_file():
        return f"no key store at {settings.data_dir.absolute()} (KEYMANAGER_DATA_DIR){INIT}"
    if keystore and settings.keystore == "pkcs12":
        if not settings.keystore_dir.is_dir():
            named_by = "KEYMANAGER_KEYSTORE_DIR" if settings.keystore_directory else "KEYMANAGER_DATA_DIR"
            return f"no keystore at {settings.keystore_dir.absolute()} ({named_by}){INIT}"
        generated = settings.data_dir / KEYSTORE_PASSWORD_FILE  # where secret_files.keystore_password makes one
        if not (settings.keystore_password or settings.keystore_password_file or generated.is_file()):
            return (f"no keystore password at {generated.absolute()} (KEYMANAGER_DATA_DIR; or set "
                    "KEYMANAGER_KEYSTORE_PASSWORD / KEYMANAGER_KEYSTORE_PASSWORD_FILE)")
    return None


def open_existing(settings: Settings, *, keystore: bool, upgrade: bool) -> Container:
    """The container of a key store that already exists (NoKeyStore otherwise); an existing
    store's pending migrations are applied as build_container would, unless ``upgrade`` is False."""
    reason = missing_key_store(settings, keystore=keystore)
    if reason:
        raise NoKeyStore(reason)
    container = build_container(settings, upgrade=False)
    database = container.database()
    if database is not None and database.schema_version() == 0:  # an empty PostgreSQL database or schema
        where = "the database of KEYMANAGER_DB_URL" if settings.store == "postgres" else str(settings.sqlite_path)
        raise NoKeyStore(f"no key store in {where}{INIT}")
    if database is not None and upgrade and (settings.store == "sqlite" or settings.db_auto_upgrade):
        database.upgrade()
    return container


def _command(args: argparse.Namespace) -> int:
    if args.command == "config":  # its report is the point: an invalid configuration is listed, not raised
        from .reference_config import run_config_check

        return run_config_check(properties=args.properties, out=sys.stdout)
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_format)
        if args.command == "serve":
            settings = settings.with_overrides(
                port=args.port or settings.port, host=args.host or settings.host
            )
            from .http.roles import RolePolicy

            RolePolicy(settings.role_overrides)  # a bad KEYMANAGER_ROLES_* stops here, not in every worker
            if settings.auto_init:
                run_init(build_container(settings), settings)
            return run_serve(settings)
        if args.command in ("db", "audit", "policy"):
            # They never open the keystore: no password, PIN or keystore directory is read or made.
            settings = settings.with_overrides(keystore="memory")
        # Asked before anything is opened or created (a refusal then changes nothing).
        if args.command == "keystore":
            try:
                import_command = read_keystore_file(read_import_file(args.file),
                                                    read_import_password(args.password_file))
            except KeystoreImportError as error:
                return report_import_refusal(args.file, error)
        if needs_existing_store(args):
            container = open_existing(settings, keystore=args.command in ("status", "rotate"),
                                      upgrade=args.command != "db")
        else:
            container = build_container(settings, upgrade=False if args.command == "db" else None)
        if args.command == "db":
            return run_db(container, settings, args.action, out=sys.stdout)
        if args.command == "audit":
            return run_audit(container, args.action, getattr(args, "limit", 20), out=sys.stdout)
        if args.command == "policy":  # -- admin console (issue 17) --
            if args.action == "list":
                return run_policy_list(container, out=sys.stdout)
            return run_policy_set(container, args.app, args.validity_days, args.pre_expire_days,
                                  args.access_allowed, out=sys.stdout)
        if args.command == "keystore":
            return run_keystore_import(container, args.file, import_command)
        if args.command == "zk":
            size = args.size if args.size is not None else settings.zk_pool_size
            return run_zk_init(container, max(0, size), out=sys.stdout)
        if args.command == "init":
            return run_init(container, settings, out=sys.stdout)
        if args.command == "rotate":
            return run_rotate(container, args.within, out=sys.stdout)
        return run_status(container, out=sys.stdout, settings=settings)
    except NoKeyStore as error:
        print(f"keymanager: {error}", file=sys.stderr)
        return 2
    except ConfigurationError as error:
        print(f"keymanager: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyManagerError as error:
        print(f"keymanager: {error.code} {error.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
