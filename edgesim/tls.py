"""Local certificates for the HTTPS listener: a local CA and a leaf it signs.

``certificates_for(state_dir, names)`` answers a :class:`LocalTls`: the CA certificate's path (print
it at start-up so users can trust it) and an ``ssl.SSLContext`` for the server whose certificate
covers ``localhost``, ``127.0.0.1``, ``::1`` and ``names`` (the distribution's aliases and its
``[server] domain_name``).

Files, under ``state_dir/tls/`` (a directory made 0700):

- ``ca.pem`` / ``ca-key.pem``: the CA. Made once (10 years) and never changed by edgesim, because
  users may have told their browser or OS to trust it.
- ``leaf.pem`` / ``leaf-key.pem``: the server's certificate (397 days, the longest every client
  accepts). Remade when the names change, when it has less than 30 days left, or when it is not
  the CA's or does not match its key.

Files with private keys are created 0600; every file is written to a temporary name and renamed,
so a crash never leaves half a file. Creation is serialised with a lock file where the platform
has ``fcntl`` (two ``edgesim serve`` on one state directory).

Damaged files: the leaf is derived data, so a leaf file that is unreadable or corrupt is remade and
a note says so (:attr:`LocalTls.notes`). The CA is not: a ``ca.pem`` that cannot be read, or a CA
key that is missing, corrupt or not the certificate's, is a :class:`TlsError` naming the file and
saying how to start over (delete ``state_dir/tls``, then trust the new CA) — silently making a new
CA would break the trust users gave the old one. A ``ca-key.pem`` without ``ca.pem`` is a CA whose
certificate was never written, so nobody can trust it: a new CA replaces it.

With ``state_dir=None`` (ephemeral state) the files go in a temporary directory that
:meth:`LocalTls.close` removes; the CA is then new on every run.

Built on ``cryptography`` (pyca) directly: the reuse decisions need to read a certificate back
(its names, issuer, expiry), which only ``cryptography`` does, and it lets edgesim pick validity
periods that browsers accept and a CA subject that names the machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import ipaddress
import os
import shutil
import socket
import ssl
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edgesim.errors import InputError

try:  # POSIX only; elsewhere concurrent first runs are not serialised
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["DEFAULT_NAMES", "LocalTls", "TlsError", "certificates_for"]

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
LEAF_DAYS = 397  # Apple's and the CA/Browser Forum's ceiling for server certificates is 398
RENEW_BEFORE = dt.timedelta(days=30)
BACKDATE = dt.timedelta(hours=1)  # tolerate a little clock skew between the viewer and edgesim

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
LEAF_CERT = "leaf.pem"
LEAF_KEY = "leaf-key.pem"

_SanName = x509.DNSName | x509.IPAddress
_SanKey = tuple[str, str]  # ("dns", "example.com") or ("ip", "::1")


class TlsError(InputError):
    """The local certificates cannot be read, made or used; the message names the file."""


@dataclass
class LocalTls:
    """The local CA and the server's certificate for one run."""

    ca_cert: Path  # PEM; print it so users can trust it
    cert: Path  # the server's certificate (PEM)
    key: Path  # its private key (PEM, 0600)
    context: ssl.SSLContext  # for the HTTPS listener
    names: tuple[str, ...]  # what the certificate covers, as written in it
    notes: tuple[str, ...] = ()  # one line each: a new CA, a remade leaf and why
    _tmp: Path | None = field(default=None, repr=False)

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the local CA (for tests and health checks)."""
        return ssl.create_default_context(cafile=str(self.ca_cert))

    def close(self) -> None:
        """Remove the temporary directory of an ephemeral run; nothing otherwise. Idempotent."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> LocalTls:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def certificates_for(state_dir: Path | None, names: Sequence[str]) -> LocalTls:
    """The local CA (made on first use) and a server certificate for ``localhost``,
    ``127.0.0.1``, ``::1`` and ``names``, under ``state_dir/tls/`` or, with ``state_dir=None``, a
    temporary directory that :meth:`LocalTls.close` removes. Raises :class:`TlsError`."""
    if isinstance(names, str):
        raise TypeError("names: expected a sequence of names, got a single string")
    sans = _sans([*DEFAULT_NAMES, *names])
    tmp: Path | None = None
    if state_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="edgesim-tls-"))
        directory = tmp
    else:
        directory = Path(state_dir) / "tls"
    try:
        _make_dir(directory)
        with _locked(directory):
            notes: list[str] = []
            ca_cert, ca_key = _ca(directory, notes if tmp is None else [])
            _leaf(directory, ca_cert, ca_key, sans, notes)
        context = _server_context(directory)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    return LocalTls(
        ca_cert=directory / CA_CERT,
        cert=directory / LEAF_CERT,
        key=directory / LEAF_KEY,
        context=context,
        names=tuple(_text(name) for name in sans),
        notes=tuple(notes),
        _tmp=tmp,
    )


# --- names -------------------------------------------------------------------------------------


def _sans(names: Sequence[str]) -> list[_SanName]:
    """``names`` as subjectAltName entries, in order, without repeats."""
    out: list[_SanName] = []
    seen: set[_SanKey] = set()
    for raw in names:
        san = _san(raw)
        key = _san_key(san)
        if key not in seen:
            seen.add(key)
            out.append(san)
    return out


def _san(raw: str) -> _SanName:
    name = raw.strip().removeprefix("[").removesuffix("]")  # "[::1]" as in URLs
    with contextlib.suppress(ValueError):
        return x509.IPAddress(ipaddress.ip_address(name))
    name = name.rstrip(".").lower()
    try:
        ascii_name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        raise TlsError(f"{raw!r} cannot go in a certificate: not a valid host name") from None
    labels = ascii_name.split(".")
    wildcard = labels[0] == "*" and len(labels) > 2
    if (
        not ascii_name
        or len(ascii_name) > 253
        or not all(_ldh(label) for label in labels[1 if wildcard else 0 :])
    ):
        raise TlsError(f"{raw!r} cannot go in a certificate: not a host name")
    return x509.DNSName(ascii_name)


def _ldh(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(c.isalnum() or c == "-" for c in label)
    )


def _san_key(san: _SanName) -> _SanKey:
    if isinstance(san, x509.IPAddress):
        return ("ip", str(san.value))
    return ("dns", san.value.lower())


def _text(san: _SanName) -> str:
    return str(san.value)


# --- the CA ------------------------------------------------------------------------------------


def _ca(directory: Path, notes: list[str]) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = directory / CA_CERT, directory / CA_KEY
    start_over = f"delete {directory} to make a new local CA (then trust the new {CA_CERT} instead)"
    if not cert_path.exists():
        cert, key = _new_ca()
        _write(key_path, _key_pem(key), private=True)  # the key first: see the module doc
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), private=False)
        notes.append(
            f"tls: made a local certificate authority, {cert_path}; trust it to use "
            "https:// without browser warnings"
        )
        return cert, key
    try:
        cert = x509.load_pem_x509_certificate(_read(cert_path))
    except OSError as exc:
        raise TlsError(f"{cert_path}: cannot read the local CA: {exc.strerror}") from None
    except ValueError:
        raise TlsError(f"{cert_path}: not a PEM certificate (the local CA); {start_over}") from None
    if not key_path.exists():
        raise TlsError(f"{key_path}: missing (the local CA's private key); {start_over}")
    try:
        key = _load_key(key_path)
    except OSError as exc:
        raise TlsError(f"{key_path}: cannot read the local CA's key: {exc.strerror}") from None
    except ValueError as exc:
        raise TlsError(f"{key_path}: {exc} (the local CA's key); {start_over}") from None
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise TlsError(f"{key_path}: not the key of {cert_path}; {start_over}")
    if cert.not_valid_after_utc <= _now() + RENEW_BEFORE:
        raise TlsError(
            f"{cert_path}: the local CA expires on "
            f"{cert.not_valid_after_utc:%Y-%m-%d}; {start_over}"
        )
    return cert, key


def _new_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    who = _who()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edgesim local CA"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, who[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, f"edgesim local CA {who}"[:64]),
        ]
    )
    now = _now()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        user = "user"
    return f"{user}@{socket.gethostname() or 'localhost'}"


# --- the leaf ----------------------------------------------------------------------------------


def _leaf(
    directory: Path,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    sans: list[_SanName],
    notes: list[str],
) -> None:
    cert_path, key_path = directory / LEAF_CERT, directory / LEAF_KEY
    reason = _leaf_problem(cert_path, key_path, ca_cert, sans)
    if reason is None:
        return
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edgesim local development"),
                    x509.NameAttribute(NameOID.COMMON_NAME, _text(sans[0])[:64]),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + dt.timedelta(days=LEAF_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(key_path, _key_pem(key), private=True)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), private=False)
    if reason:
        notes.append(f"tls: made a new server certificate, {cert_path} ({reason})")


def _leaf_problem(
    cert_path: Path, key_path: Path, ca_cert: x509.Certificate, sans: list[_SanName]
) -> str | None:
    """Why the leaf must be (re)made: ``""`` when there is none yet, ``None`` to reuse it."""
    if not cert_path.exists() and not key_path.exists():
        return ""
    try:
        cert = x509.load_pem_x509_certificate(_read(cert_path))
    except OSError as exc:
        return f"{cert_path.name} could not be read: {exc.strerror}"
    except ValueError:
        return f"{cert_path.name} was not a PEM certificate"
    try:
        key = _load_key(key_path)
    except OSError as exc:
        return f"{key_path.name} could not be read: {exc.strerror}"
    except ValueError as exc:
        return f"{key_path.name} was {exc}"
    if _spki(key.public_key()) != _spki(cert.public_key()):
        return f"{key_path.name} was not the certificate's key"
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return "it was not signed by the local CA"
    try:
        have = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        have = x509.SubjectAlternativeName([])
    old = {_san_key(n) for n in have if isinstance(n, x509.DNSName | x509.IPAddress)}
    new = {_san_key(n) for n in sans}
    if old != new:
        added = sorted(v for _, v in new - old)
        removed = sorted(v for _, v in old - new)
        change = [*(f"+{v}" for v in added), *(f"-{v}" for v in removed)]
        return f"the names changed: {', '.join(change)}"
    now = _now()
    if cert.not_valid_before_utc > now:
        return "it was not valid yet"
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return f"it expires on {cert.not_valid_after_utc:%Y-%m-%d}"
    return None


# --- files -------------------------------------------------------------------------------------


def _server_context(directory: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # as CloudFront's current security policies
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_cert_chain(directory / LEAF_CERT, directory / LEAF_KEY)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"{directory / LEAF_CERT}: cannot be used by the server: {exc}") from None
    return context


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise TlsError(f"{directory}: cannot make the certificates' directory: {exc}") from None
    if not directory.is_dir():
        raise TlsError(f"{directory}: not a directory")


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    lock = directory / ".lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise TlsError(f"{lock}: cannot open the lock file: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _write(path: Path, data: bytes, *, private: bool) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename; 0600 when ``private``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    mode = 0o600 if private else 0o644
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            if private and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)  # whatever the umask said
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise TlsError(f"{path}: cannot write: {exc.strerror}") from None


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The EC private key in ``path``; ValueError when it is something else."""
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an EC private key")
    return key


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _spki(key: ec.EllipticCurvePublicKey | object) -> bytes:
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return b""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
