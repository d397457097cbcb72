"""edgesim.tls: the local CA and the server certificate, checked with real TLS handshakes."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import ssl
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from edgesim import tls
from edgesim.errors import InputError
from edgesim.tls import LocalTls, TlsError, certificates_for

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


def _serve_once(local: LocalTls, family: int, host: str) -> tuple[socket.socket, threading.Thread]:
    """A loopback listener that does one TLS handshake, says ``ok`` and closes."""
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(1)

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            try:
                with local.context.wrap_socket(conn, server_side=True) as tls_conn:
                    tls_conn.sendall(b"ok")
            except (ssl.SSLError, OSError):
                pass  # the client refused the certificate

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener, thread


def handshake(local: LocalTls, server_hostname: str, *, host: str = "127.0.0.1") -> bytes:
    """Connect to a server using ``local``'s context, trusting only the CA file; the bytes read."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener, thread = _serve_once(local, family, host)
    client = ssl.create_default_context(cafile=str(local.ca_cert))
    try:
        port = listener.getsockname()[1]
        with (
            socket.create_connection((host, port), timeout=10) as raw,
            client.wrap_socket(raw, server_hostname=server_hostname) as conn,
        ):
            return conn.recv(2)
    finally:
        thread.join(10)
        listener.close()


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / ".edgesim"


@pytest.fixture
def local(state: Path) -> Iterator[LocalTls]:
    with certificates_for(state, ["www.example.com", "d111111abcdef8.cloudfront.net"]) as got:
        yield got


def sans(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(name.value) for name in names}


# --- handshakes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostname", ["localhost", "127.0.0.1", "www.example.com", "d111111abcdef8.cloudfront.net"]
)
def test_handshake_verifies_against_the_ca_file(local: LocalTls, hostname: str) -> None:
    assert handshake(local, hostname) == b"ok"


def test_a_name_not_in_the_certificate_fails(local: LocalTls) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=r"example\.org"):
        handshake(local, "example.org")


def test_another_ca_is_not_trusted(local: LocalTls, tmp_path: Path) -> None:
    with certificates_for(tmp_path / "other", []) as other:
        stranger = LocalTls(other.ca_cert, local.cert, local.key, local.context, local.names)
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(stranger, "localhost")


def test_ipv6_loopback(local: LocalTls) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    assert handshake(local, "::1", host="::1") == b"ok"


def test_the_certificate_names_the_defaults_and_the_given_names(local: LocalTls) -> None:
    assert local.names == (
        "localhost",
        "127.0.0.1",
        "::1",
        "www.example.com",
        "d111111abcdef8.cloudfront.net",
    )
    assert sans(local.cert) == set(local.names)
    assert local.ca_cert == local.cert.parent / "ca.pem"
    assert local.cert.parent.parent.name == ".edgesim"


def test_names_are_normalised_and_deduplicated(state: Path) -> None:
    with certificates_for(state, ["WWW.Example.com.", "localhost", "[::1]", "*.example.net"]) as t:
        assert t.names == ("localhost", "127.0.0.1", "::1", "www.example.com", "*.example.net")
        assert handshake(t, "api.example.net") == b"ok"


@pytest.mark.parametrize("bad", ["not a host", "a..b", "-x.example.com", "x" * 64 + ".com"])
def test_a_name_that_cannot_go_in_a_certificate_is_refused(state: Path, bad: str) -> None:
    with pytest.raises(TlsError, match="cannot go in a certificate"):
        certificates_for(state, [bad])


def test_a_single_string_is_not_a_list_of_names(state: Path) -> None:
    with pytest.raises(TypeError, match="single string"):
        certificates_for(state, "example.com")


# --- reuse -------------------------------------------------------------------------------------


def test_the_ca_and_leaf_are_reused(state: Path) -> None:
    with certificates_for(state, ["a.example"]) as first:
        ca, leaf = first.ca_cert.read_bytes(), first.cert.read_bytes()
        assert len(first.notes) == 1
        assert "made a local certificate authority" in first.notes[0]
        assert str(first.ca_cert) in first.notes[0]
    with certificates_for(state, ["a.example"]) as second:
        assert second.ca_cert.read_bytes() == ca
        assert second.cert.read_bytes() == leaf
        assert second.notes == ()
        assert handshake(second, "a.example") == b"ok"


def test_the_leaf_is_remade_when_the_names_change(state: Path) -> None:
    with certificates_for(state, ["a.example"]) as first:
        ca, leaf = first.ca_cert.read_bytes(), first.cert.read_bytes()
    with certificates_for(state, ["b.example"]) as second:
        assert second.ca_cert.read_bytes() == ca  # the CA never changes
        assert second.cert.read_bytes() != leaf
        assert sans(second.cert) == {"localhost", "127.0.0.1", "::1", "b.example"}
        assert second.notes == (
            f"tls: made a new server certificate, {second.cert} "
            "(the names changed: +b.example, -a.example)",
        )
        assert handshake(second, "b.example") == b"ok"
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(second, "a.example")


def test_the_order_of_names_does_not_remake_the_leaf(state: Path) -> None:
    certificates_for(state, ["a.example", "b.example"]).close()
    leaf = (state / "tls" / "leaf.pem").read_bytes()
    with certificates_for(state, ["b.example", "a.example", "a.example"]) as again:
        assert again.cert.read_bytes() == leaf
        assert again.notes == ()


def test_the_leaf_is_remade_when_it_nears_expiry(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificates_for(state, []).close()
    leaf = (state / "tls" / "leaf.pem").read_bytes()
    expires = x509.load_pem_x509_certificate(leaf).not_valid_after_utc
    later = expires - dt.timedelta(days=10)
    monkeypatch.setattr(tls, "_now", lambda: later)
    with certificates_for(state, []) as renewed:
        assert renewed.cert.read_bytes() != leaf
        assert renewed.notes == (
            f"tls: made a new server certificate, {renewed.cert} "
            f"(it expires on {expires:%Y-%m-%d})",
        )
        new = x509.load_pem_x509_certificate(renewed.cert.read_bytes())
        assert new.not_valid_after_utc > expires


def test_the_leaf_lasts_at_most_397_days(local: LocalTls) -> None:
    cert = x509.load_pem_x509_certificate(local.cert.read_bytes())
    assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=398)


# --- damaged files -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["leaf.pem", "leaf-key.pem"])
def test_a_corrupt_leaf_file_is_remade_with_a_note(state: Path, name: str) -> None:
    certificates_for(state, []).close()
    (state / "tls" / name).write_text("garbage\n")
    with certificates_for(state, []) as again:
        assert len(again.notes) == 1
        assert again.notes[0].startswith(f"tls: made a new server certificate, {again.cert} (")
        assert name in again.notes[0]
        assert handshake(again, "localhost") == b"ok"


def test_a_missing_leaf_key_is_remade(state: Path) -> None:
    certificates_for(state, []).close()
    (state / "tls" / "leaf-key.pem").unlink()
    with certificates_for(state, []) as again:
        assert "leaf-key.pem could not be read" in again.notes[0]
        assert handshake(again, "localhost") == b"ok"


def test_a_leaf_from_another_ca_is_remade(state: Path, tmp_path: Path) -> None:
    certificates_for(state, []).close()
    certificates_for(tmp_path / "other", []).close()
    for name in ("leaf.pem", "leaf-key.pem"):
        (state / "tls" / name).write_bytes((tmp_path / "other" / "tls" / name).read_bytes())
    with certificates_for(state, []) as again:
        assert "it was not signed by the local CA" in again.notes[0]
        assert handshake(again, "localhost") == b"ok"


def test_a_corrupt_ca_is_an_error_naming_the_file(state: Path) -> None:
    certificates_for(state, []).close()
    ca = state / "tls" / "ca.pem"
    ca.write_text("garbage\n")
    with pytest.raises(TlsError) as info:
        certificates_for(state, [])
    assert str(info.value) == (
        f"{ca}: not a PEM certificate (the local CA); delete {state / 'tls'} to make a new "
        "local CA (then trust the new ca.pem instead)"
    )
    assert isinstance(info.value, InputError)  # the CLI prints it and exits 2
    assert ca.read_text() == "garbage\n"  # never replaced behind the user's back


def test_a_corrupt_ca_key_is_an_error_naming_the_file(state: Path) -> None:
    certificates_for(state, []).close()
    key = state / "tls" / "ca-key.pem"
    key.write_text("garbage\n")
    with pytest.raises(TlsError, match=r"ca-key\.pem: not an unencrypted PEM private key"):
        certificates_for(state, [])


def test_a_missing_ca_key_is_an_error(state: Path) -> None:
    certificates_for(state, []).close()
    key = state / "tls" / "ca-key.pem"
    key.unlink()
    with pytest.raises(
        TlsError, match=f"^{re.escape(str(key))}: missing \\(the local CA's private key\\); delete"
    ):
        certificates_for(state, [])


def test_a_ca_key_that_is_not_the_certificates_is_an_error(state: Path, tmp_path: Path) -> None:
    certificates_for(state, []).close()
    certificates_for(tmp_path / "other", []).close()
    key = state / "tls" / "ca-key.pem"
    key.write_bytes((tmp_path / "other" / "tls" / "ca-key.pem").read_bytes())
    with pytest.raises(
        TlsError, match=f"^{re.escape(str(key))}: not the key of .*ca\\.pem; delete"
    ):
        certificates_for(state, [])


def test_a_ca_key_without_its_certificate_is_replaced(state: Path) -> None:
    """The key is written first: a key alone is a CA nobody could have trusted."""
    certificates_for(state, []).close()
    (state / "tls" / "ca.pem").unlink()
    with certificates_for(state, []) as again:
        assert "made a local certificate authority" in again.notes[0]
        assert "it was not signed by the local CA" in again.notes[1]
        assert handshake(again, "localhost") == b"ok"


def unreadable(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Reading ``name`` fails as it does without read permission (which root does not see)."""
    real = tls._read

    def read(path: Path) -> bytes:
        if path.name == name:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(tls, "_read", read)


def test_an_unreadable_ca_is_an_error_naming_the_file(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificates_for(state, []).close()
    unreadable(monkeypatch, "ca.pem")
    ca = state / "tls" / "ca.pem"
    with pytest.raises(TlsError) as info:
        certificates_for(state, [])
    assert str(info.value) == f"{ca}: cannot read the local CA: Permission denied"


def test_an_unreadable_leaf_is_remade(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    certificates_for(state, []).close()
    unreadable(monkeypatch, "leaf.pem")
    with certificates_for(state, []) as again:
        assert again.notes == (
            f"tls: made a new server certificate, {again.cert} "
            "(leaf.pem could not be read: Permission denied)",
        )


def test_a_state_dir_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("")
    with pytest.raises(TlsError, match="tls: cannot make the certificates' directory"):
        certificates_for(tmp_path / "state", [])


# --- files, permissions, ephemeral state -------------------------------------------------------


@POSIX
def test_private_keys_are_0600_and_the_directory_0700(local: LocalTls) -> None:
    directory = local.cert.parent
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(directory) == 0o700
    assert mode(directory / "ca-key.pem") == 0o600
    assert mode(directory / "leaf-key.pem") == 0o600
    assert mode(local.key) == 0o600
    assert not mode(directory / "ca.pem") & 0o022
    assert sorted(p.name for p in directory.iterdir() if not p.name.startswith(".")) == [
        "ca-key.pem",
        "ca.pem",
        "leaf-key.pem",
        "leaf.pem",
    ]


@POSIX
def test_keys_are_0600_whatever_the_umask(state: Path) -> None:
    old = os.umask(0)
    try:
        certificates_for(state, []).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((state / "tls" / "ca-key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((state / "tls" / "leaf-key.pem").stat().st_mode) == 0o600


def test_ephemeral_certificates_live_in_a_temporary_directory_removed_by_close() -> None:
    local = certificates_for(None, ["a.example"])
    directory = local.ca_cert.parent
    assert directory.is_dir()
    assert local.notes == ()  # a new CA every run: nothing worth saying
    assert handshake(local, "a.example") == b"ok"
    local.close()
    assert not directory.exists()
    local.close()  # idempotent


def test_ephemeral_runs_get_different_cas() -> None:
    with certificates_for(None, []) as first, certificates_for(None, []) as second:
        assert first.ca_cert != second.ca_cert
        assert first.ca_cert.read_bytes() != second.ca_cert.read_bytes()
        directory = first.ca_cert.parent
    assert not directory.exists()


def test_close_keeps_persistent_files(local: LocalTls) -> None:
    local.close()
    assert local.ca_cert.exists()
    assert local.cert.exists()


def test_the_client_context_trusts_the_ca(local: LocalTls) -> None:
    context = local.client_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert len(context.get_ca_certs()) == 1
