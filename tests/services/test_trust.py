"""TLS trust: the CAs of the OS, certifi's, and SSL_CERT_FILE / SSL_CERT_DIR, all at once.

A loopback https server whose certificate a private CA signed; the console's real client
sends to it. "The OS trusts the CA" is made true for one child process only, by mounting a
bundle holding that CA over the system bundle in a private mount namespace (`unshare -m`,
as root): nothing on the machine changes.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import certifi
import pytest

from console.services import trust
from console.services.client import EventApiClient, RetryPolicy, SendResult, Target
from tests.conftest import require
from tests.support.fault_server import FaultServer

ROOT = Path(__file__).resolve().parents[2]
KEY = "evtkey-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SEND = """
import asyncio, json, sys
from console.services.client import EventApiClient, RetryPolicy, Target
async def go():
    client = EventApiClient(retry=RetryPolicy(max_attempts=1))
    out = []
    try:
        for origin in sys.argv[2:]:
            result = await client.send(Target(origin, sys.argv[1]), b'[{"name":"a/b"}]', 1)
            out.append({"status": result.status, "error": result.error,
                        "problem": client.environment_problem})
    finally:
        await client.aclose()
    print(json.dumps(out))
asyncio.run(go())
"""


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _make_ca(folder: Path, name: str) -> tuple[Path, ssl.SSLContext]:
    """(a new CA's PEM file, a server context with a certificate for 127.0.0.1 it signed)."""
    folder.mkdir()
    ca_key, ca, key, csr, cert = (folder / name for name in (
        "ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={name}", "-keyout", str(ca_key),
             "-out", str(ca), "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(key), "-out", str(csr))
    extensions = folder / "san.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "1", "-extfile", str(extensions), "-out", str(cert))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return ca, server


@pytest.fixture
def private_ca(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    return _make_ca(tmp_path / "private", "Event Console Test Private CA")


async def _send(origin: str) -> tuple[SendResult, str | None]:
    client = EventApiClient(retry=RetryPolicy(max_attempts=1))
    try:
        return await client.send(Target(origin, KEY), b'[{"name":"a/b"}]', 1), \
            client.environment_problem
    finally:
        await client.aclose()


def _send_in_child(origins: list[str], system_bundle: bytes | None, tmp_path: Path,
                   **settings: str) -> list[dict[str, object]]:
    """Send to each origin from a child process; with `system_bundle`, the system's bundle
    reads as those bytes in that process only (a private mount namespace)."""
    require(shutil.which("unshare") is not None and os.geteuid() == 0,
            "unshare and root, to mount a bundle in a private mount namespace")
    require(ssl.get_default_verify_paths().cafile is not None,
            "a system CA bundle (Debian's ca-certificates)")
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    env.update(settings, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-c", SEND, KEY, *origins]
    if system_bundle is not None:
        bundle = tmp_path / "system-bundle.pem"
        bundle.write_bytes(system_bundle)
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" "$1" && shift && exec "$@"', str(bundle),
                   str(ssl.get_default_verify_paths().cafile), *command]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def _system_bundle() -> bytes:
    path = ssl.get_default_verify_paths().cafile
    assert path is not None
    return Path(path).read_bytes()


def test_a_ca_the_system_trusts_is_trusted_with_no_setting(private_ca, tmp_path) -> None:
    """A private CA installed in the OS (a corporate TLS-inspecting proxy, a self-hosted
    server's CA) was not trusted: only certifi's bundle was, so every send said "certificate
    verify failed" until the user found SSL_CERT_FILE."""
    ca, server_context = private_ca
    with FaultServer(tls=server_context) as server:
        [without] = _send_in_child([server.origin], None, tmp_path)  # not installed yet
        [trusted] = _send_in_child([server.origin], _system_bundle() + ca.read_bytes(),
                                   tmp_path)
        assert len(server.requests) == 1  # the refused handshake never made a request
    assert without["status"] is None and "certificate verify failed" in str(without["error"])
    assert (trusted["status"], trusted["error"], trusted["problem"]) == (200, None, None)


def test_a_ca_named_by_ssl_cert_file_adds_to_the_system_s(private_ca, tmp_path) -> None:
    """SSL_CERT_FILE adds its CA: it used to replace the CAs trusted otherwise, so naming a
    self-hosted server's CA made Inngest Cloud untrusted. A second private CA, installed
    in the system, stands in for Cloud's."""
    ca, server_context = private_ca
    system_ca, cloud_context = _make_ca(tmp_path / "system", "Event Console Test System CA")
    with FaultServer(tls=server_context) as private, FaultServer(tls=cloud_context) as cloud:
        results = _send_in_child([private.origin, cloud.origin],
                                 _system_bundle() + system_ca.read_bytes(), tmp_path,
                                 SSL_CERT_FILE=str(ca))
    assert [(r["status"], r["error"], r["problem"]) for r in results] == [(200, None, None)] * 2


def test_a_linux_without_a_system_bundle_trusts_certifi_s(tmp_path, monkeypatch) -> None:
    """A minimal container has no bundle at all: the one the console ships is used."""
    shipped_ca, server_context = _make_ca(tmp_path / "shipped", "Event Console Test CA")
    monkeypatch.setattr(trust, "BUNDLES", ())
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: ssl.DefaultVerifyPaths(
        None, None, "SSL_CERT_FILE", str(tmp_path / "none.pem"), "SSL_CERT_DIR",
        str(tmp_path / "none")))
    monkeypatch.setattr(certifi, "where", lambda: str(shipped_ca))
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    with FaultServer(tls=server_context) as server:
        result, problem = asyncio.run(_send(server.origin))
    assert (result.status, result.error, problem) == (200, None, None)


def test_a_ca_in_an_ssl_cert_dir_is_trusted(private_ca, tmp_path, monkeypatch) -> None:
    ca, server_context = private_ca
    folder = tmp_path / "cas"
    folder.mkdir()
    shutil.copy(ca, folder / "private.pem")
    subprocess.run(["openssl", "rehash", str(folder)], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_DIR", str(folder))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with FaultServer(tls=server_context) as server:
        result, problem = asyncio.run(_send(server.origin))
    assert (result.status, result.error, problem) == (200, None, None)


@pytest.mark.parametrize("setting", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_a_certificate_setting_naming_nothing_is_said_and_ignored(
        private_ca, tmp_path, monkeypatch, setting) -> None:
    """The send goes out with the other CAs (here: none trusts the server, so it is
    refused on the certificate), and the setting is named."""
    _, server_context = private_ca
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv(setting, str(tmp_path / "missing"))
    with FaultServer(tls=server_context) as server:
        result, problem = asyncio.run(_send(server.origin))
    missing = tmp_path / "missing"
    assert problem is not None and problem.endswith(
        f"a certificate setting cannot be read: {setting}={missing}: "
        + ("not a folder" if setting == "SSL_CERT_DIR" else "No such file or directory"))
    assert result.status is None and "certificate verify failed" in str(result.error)


def test_a_certificate_file_that_is_not_pem_is_named(tmp_path, monkeypatch) -> None:
    """Many machines set both SSL_CERT_FILE and SSL_CERT_DIR: the message named neither."""
    not_pem = tmp_path / "e.json"
    not_pem.write_text('{"name": "a/b"}')
    monkeypatch.setenv("SSL_CERT_FILE", str(not_pem))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    client = EventApiClient()
    try:
        assert client.environment_problem is not None
        assert client.environment_problem.endswith(
            f"a certificate setting cannot be read: SSL_CERT_FILE={not_pem}: no certificate or"
            " crl found")
    finally:
        asyncio.run(client.aclose())
