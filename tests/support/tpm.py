"""A software TPM for the tests: ``swtpm socket --tpm2`` on two free TCP ports with a throwaway state
directory, driven with tpm2-tools over the swtpm TCTI (Debian packages swtpm, swtpm-tools, tpm2-tools;
tests/support/ensure_tpm.sh installs them).

There is no resource manager between the tools and the TPM, so every object a tool loads stays in
the TPM's few transient slots: each command is followed by ``tpm2_flushcontext -t``, and keys are
used through their saved contexts.
"""
from __future__ import annotations

import functools
import os
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from tests.support.repo import REPO_ROOT

TOOLS = ("swtpm", "tpm2_createprimary", "tpm2_create", "tpm2_load", "tpm2_sign", "tpm2_rsadecrypt",
         "tpm2_flushcontext", "tpm2_getrandom")


def tools_available() -> bool:
    return all(shutil.which(tool) for tool in TOOLS)


@functools.cache
def ensure_tools() -> bool:
    """True when swtpm and tpm2-tools are there, after running ensure_tpm.sh (once) if they were not."""
    if not tools_available():
        subprocess.run(["bash", str(REPO_ROOT / "tests" / "support" / "ensure_tpm.sh")], timeout=900, check=False)
    return tools_available()


def _free_port_pair() -> int:
    """A free port N with N+1 free too: the swtpm TCTI finds the control channel at port + 1."""
    while True:
        with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            if port >= 65535:
                continue
            with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as neighbour:
                try:
                    neighbour.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port


class SoftwareTpm:
    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.tcti = f"swtpm:host=127.0.0.1,port={port}"
        self._primary: Path | None = None

    def run(self, *arguments: str | Path) -> subprocess.CompletedProcess[bytes]:
        """One tpm2-tools command (failing loudly), then the transient slots emptied."""
        env = dict(os.environ, TPM2TOOLS_TCTI=self.tcti)
        try:
            return subprocess.run([str(a) for a in arguments], env=env, cwd=self.directory, capture_output=True,
                                  check=True, timeout=60)
        except subprocess.CalledProcessError as failure:
            raise AssertionError(f"{arguments[0]} failed: {failure.stderr.decode(errors='replace')}") from None
        finally:
            subprocess.run(["tpm2_flushcontext", "-t"], env=env, capture_output=True, timeout=60, check=False)

    def _primary_context(self) -> Path:
        if self._primary is None:
            self._primary = self.directory / "primary.ctx"
            self.run("tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "rsa2048", "-c", self._primary)
        return self._primary

    def create_key(self, name: str, algorithm: str, attributes: str | None = None) -> tuple[Path, bytes]:
        """An RSA key made inside the TPM under the owner hierarchy's primary key: (its loaded context,
        its TPMT_PUBLIC as a client sends it, i.e. tpm2_create's TPM2B_PUBLIC without the size)."""
        public, private, context = (self.directory / f"{name}.{ext}" for ext in ("pub", "priv", "ctx"))
        extra = ["-a", attributes] if attributes else []
        self.run("tpm2_create", "-C", self._primary_context(), "-G", algorithm, *extra, "-u", public, "-r", private)
        self.run("tpm2_load", "-C", self._primary_context(), "-u", public, "-r", private, "-c", context)
        tpm2b = public.read_bytes()
        (size,) = struct.unpack(">H", tpm2b[:2])
        assert size == len(tpm2b) - 2, "tpm2_create writes a TPM2B_PUBLIC"
        return context, tpm2b[2:]

    def sign(self, context: Path, data: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 SHA-256 over ``data`` (the TPM hashes it), the raw signature."""
        message, signature = self.directory / "message.bin", self.directory / "signature.bin"
        message.write_bytes(data)
        self.run("tpm2_sign", "-c", context, "-g", "sha256", "-s", "rsassa", "-f", "plain", "-o", signature, message)
        return signature.read_bytes()

    def rsa_decrypt(self, context: Path, ciphertext: bytes, label: str = "") -> bytes:
        """TPM2_RSA_Decrypt with OAEP; tpm2-tools adds the label's terminating NUL itself."""
        sealed, opened = self.directory / "sealed.bin", self.directory / "opened.bin"
        sealed.write_bytes(ciphertext)
        self.run("tpm2_rsadecrypt", "-c", context, "-s", "oaep", "-l", label, "-o", opened, sealed)
        return opened.read_bytes()


@contextmanager
def running_tpm(directory: Path, attempts: int = 3) -> Iterator[SoftwareTpm]:
    """swtpm on free ports (tried again on new ports if another process took one meanwhile)."""
    state = directory / "state"
    state.mkdir(parents=True, exist_ok=True)
    for _ in range(attempts):
        port = _free_port_pair()
        process = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
             "--server", f"type=tcp,port={port},bindaddr=127.0.0.1",
             "--ctrl", f"type=tcp,port={port + 1},bindaddr=127.0.0.1",
             "--flags", "not-need-init,startup-clear"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            tpm = SoftwareTpm(directory, port)
            if _answers(tpm, process):
                yield tpm
                return
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    raise AssertionError("swtpm did not start")


def _answers(tpm: SoftwareTpm, process: subprocess.Popen[bytes], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False  # e.g. a port taken in the meantime
        try:
            tpm.run("tpm2_getrandom", "--hex", "4")
            return True
        except AssertionError:
            time.sleep(0.05)
    return False
