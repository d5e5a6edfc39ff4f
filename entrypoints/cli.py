"""The ``keymanager`` command: init (key ceremony), serve, status, db, audit."""
from __future__ import annotations

import argparse
import getpass
import logging
import sys
from typing import Any, Sequence

from application.key_hierarchy import audit_subject
from application.use_cases.generate_master_key import GenerateMasterKeyCommand
from domain.audit import verify_chain
from domain.current_key import current_aliases, pre_expire_days
from domain.errors import KeyManagerError

from .containers import Container, build_container
from .log_format import configure_logging
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
    hierarchy = container.hierarchy()
    health = container.keystore().health()
    now = hierarchy.clock.now()
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


def run_serve(settings: Settings) -> int:
    from .server.run import runs_inline, serve

    print(
        f"keymanager: serving http://{settings.host}:{settings.port}/v1/keymanager "
        f"(store={settings.store}, keystore={settings.keystore}, data={settings.data_dir}, auth={settings.auth_mode}, "
        f"workers={settings.workers}, requests {'inline' if runs_inline(settings) else 'in threads'})",
        flush=True,
    )
    serve(settings)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="keymanager", description="MOSIP-compatible key manager")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init", help="one-time key ceremony: ROOT, then the configured module keys")
    serve = commands.add_parser("serve", help="serve the HTTP API (initialises on first start)")
    serve.add_argument("--port", type=int, help="overrides KEYMANAGER_PORT")
    serve.add_argument("--host", help="overrides KEYMANAGER_HOST")
    commands.add_parser("status", help="list keys and whether each is current")
    database = commands.add_parser("db", help="database maintenance")
    database.add_argument("action", choices=["upgrade", "version"], help="apply pending migrations / show version")
    audit = commands.add_parser("audit", help="the hash-chained audit trail")
    audit_actions = audit.add_subparsers(dest="action", required=True)
    audit_actions.add_parser("verify", help="check the whole chain: exit 1 at the first edited/removed/moved record")
    audit_list = audit_actions.add_parser("list", help="show the latest records")
    audit_list.add_argument("--limit", type=int, default=20, help="how many records (default 20)")
    zk = commands.add_parser("zk", help="zero-knowledge encryption key pool")
    zk_actions = zk.add_subparsers(dest="action", required=True)
    zk_init = zk_actions.add_parser("init", help="create the ZK master key and the pool (idempotent, resumable)")
    zk_init.add_argument("--size", type=int, help="pool size (default KEYMANAGER_ZK_POOL_SIZE, 10000)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    acting = audit_subject.set(f"cli:{_os_user()}")  # the subject of the records of keys a command creates
    try:
        return _command(args)
    finally:
        audit_subject.reset(acting)


def _command(args: argparse.Namespace) -> int:
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
        if args.command == "db":
            return run_db(build_container(settings, upgrade=False), settings, args.action)
        if args.command == "audit":
            return run_audit(build_container(settings), args.action, getattr(args, "limit", 20), out=sys.stdout)
        container = build_container(settings)
        if args.command == "zk":
            size = args.size if args.size is not None else settings.zk_pool_size
            return run_zk_init(container, max(0, size))
        if args.command == "init":
            return run_init(container, settings)
        return run_status(container, settings=settings)
    except ConfigurationError as error:
        print(f"keymanager: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyManagerError as error:
        print(f"keymanager: {error.code} {error.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
