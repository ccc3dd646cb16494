"""TLS passes through to etcd: a real etcd serving HTTPS with a certificate of a test CA made
here with openssl; a store that trusts the CA runs a net, one that does not is refused clearly.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess

import pytest

import dipen
from dipen.etcd_local import find_etcd

pytestmark = pytest.mark.etcd


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificates(folder) -> dict[str, str]:
    """A CA and a server certificate for 127.0.0.1, signed by it."""
    def openssl(*words: str) -> None:
        subprocess.run(["openssl", *words], cwd=folder, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.crt", "-days", "1", "-subj", "/CN=dipen test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "san.cnf")
    return {name: str(folder / f"{name}.{suffix}")
            for name, suffix in (("ca", "crt"), ("cert", "crt"), ("key", "key"))}


@pytest.fixture
def tls_etcd(tmp_path):
    files = make_certificates(tmp_path)
    client, peer = free_port(), free_port()
    server = subprocess.Popen(
        [find_etcd(), "--name", "tls", "--data-dir", str(tmp_path / "data"),
         "--listen-client-urls", f"https://127.0.0.1:{client}",
         "--advertise-client-urls", f"https://127.0.0.1:{client}",
         "--listen-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"tls=http://127.0.0.1:{peer}", "--log-level", "warn",
         "--cert-file", str(tmp_path / "server.crt"), "--key-file", str(tmp_path / "server.key")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"127.0.0.1:{client}", files
    finally:
        server.terminate()
        server.wait(10)


def test_tls_options_pass_through_to_etcd(tls_etcd):
    endpoint, files = tls_etcd
    net = dipen.Net("secure").place("a", tokens=2).place("b").transition("t", take="a", give="b")

    async def main():
        trusting = dipen.EtcdStore([endpoint], tls={"ca": files["ca"]}, timeout=10)
        try:
            runner = dipen.Runner(net, store=trusting)
            assert (await runner.run()).firings == 2
            assert (await trusting.marking()).counts() == {"a": 0, "b": 2}
            await runner.close()
        finally:
            await trusting.close()
        for options in ({}, {"tls": True}):  # plain text, or system roots that lack our CA
            stranger = dipen.EtcdStore([endpoint], "dipen/secure/", timeout=2, **options)
            try:
                with pytest.raises(dipen.StoreError, match="did not answer within 2 s"):
                    await stranger.snapshot()
            finally:
                await stranger.close()

    asyncio.run(main())
