"""Which certificate authorities a TLS connection to Inngest trusts.

The CAs the operating system trusts, as a browser on the same machine does, so a private
CA installed there (a corporate TLS-inspecting proxy, a self-hosted server's own CA) works
with no setting: on macOS and Windows through `truststore` (the Keychain, the certificate
store), on Linux the system bundle (OpenSSL's default paths, else the first of the usual
bundle files), or certifi's bundle on a Linux without one (a minimal container). Plus the
files named by SSL_CERT_FILE and SSL_CERT_DIR (the folder: on Linux only, where OpenSSL
does the checking): they add to the others, so naming a self-hosted server's CA does not
make Inngest Cloud untrusted.

Before this, only certifi's bundle (or SSL_CERT_FILE instead of it) was trusted: a CA the
user had installed in the OS was not.

Why not `truststore` on Linux too: it reloads the system bundle at every new connection
(25 ms each, measured), on the Qt thread; loaded once here, it costs that once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import ssl
import sys
from collections.abc import Iterator

import certifi

CERT_SETTINGS = ("SSL_CERT_FILE", "SSL_CERT_DIR")
# where Linux distributions keep their bundle, for an OpenSSL built with other default
# paths (a packaged app's own OpenSSL): Debian and Ubuntu, Fedora and RHEL, Alpine and
# Arch, openSUSE
BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
           "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem",
           "/etc/ssl/ca-bundle.pem")
_HASHED = re.compile(r"[0-9a-fA-F]{8}\.[0-9]+")


def trust_context(*, environment: bool = True) -> ssl.SSLContext:
    """A client context trusting the OS's CAs (certifi's on a Linux without any), and
    (`environment`) those named by SSL_CERT_FILE / SSL_CERT_DIR. Raises OSError, naming the
    setting and its file, when one cannot be read: the caller says so and calls again with
    `environment=False`."""
    if sys.platform in ("darwin", "win32"):
        import truststore  # verifies with the OS's own checks

        context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if not _load_system_bundle(context):
            context.load_verify_locations(cafile=certifi.where())
    if environment:
        cafile, capath = (os.environ.get(name) or None for name in CERT_SETTINGS)
        if cafile is not None:
            with _named("SSL_CERT_FILE", cafile):
                context.load_verify_locations(cafile=cafile)
        if capath is not None:
            with _named("SSL_CERT_DIR", capath):
                if not os.path.isdir(capath):  # OpenSSL would take it and find nothing there
                    raise NotADirectoryError(errno.ENOTDIR, "not a folder")
                context.load_verify_locations(capath=capath)
    return context


@contextlib.contextmanager
def _named(setting: str, value: str) -> Iterator[None]:
    """An OSError that says which setting and which file: many machines set both (CI
    images do), and "[Errno 2] No such file or directory" named neither."""
    try:
        yield
    except ssl.SSLError as exc:  # "[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate … (_ssl.c:…)"
        text = str(exc.args[1] if len(exc.args) > 1 else exc)
        raise OSError(f"{setting}={value}: "
                      f"{text.split('] ', 1)[-1].split(' (_ssl.c', 1)[0]}") from None
    except OSError as exc:
        raise OSError(f"{setting}={value}: {exc.strerror or exc}") from None


def _load_system_bundle(context: ssl.SSLContext) -> bool:
    """OpenSSL's default paths when they hold certificates, else the first bundle found;
    False when there is none. (SSL_CERT_FILE and SSL_CERT_DIR are left to the caller:
    OpenSSL would read them here in place of the system's.)"""
    defaults = ssl.get_default_verify_paths()
    if defaults.openssl_cafile and os.path.isfile(defaults.openssl_cafile):
        context.load_verify_locations(cafile=defaults.openssl_cafile)
        return True
    if defaults.openssl_capath and _holds_certificates(defaults.openssl_capath):
        context.load_verify_locations(capath=defaults.openssl_capath)
        return True
    for bundle in BUNDLES:
        if os.path.isfile(bundle):
            context.load_verify_locations(cafile=bundle)
            return True
    return False


def _holds_certificates(folder: str) -> bool:
    try:
        return any(_HASHED.fullmatch(name) for name in os.listdir(folder))
    except OSError:
        return False
