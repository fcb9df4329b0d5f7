"""Token and Basic auth against a real token-auth registry; credentials from docker config."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from support.oci_registry import (
    Content,
    Faults,
    Registry,
    fault_proxy,
    write_credential_helper,
    write_docker_config,
)
from support.retry import FAST_RETRY

from pinlock.sources.oci import make_registry_client
from pinlock.sources.oci.client import RegistryClient
from pinlock.sources.oci.errors import RegistryAuthError

pytestmark = pytest.mark.registry
PLATFORMS = ("linux/amd64", "linux/arm64")
SECRET = "s3cret-pw"


def client(url: str, docker_config: Path) -> RegistryClient:
    return make_registry_client(
        {"DOCKER_CONFIG": str(docker_config), "PATH": "/usr/bin:/bin"},
        registry_mirrors=[f"docker.io={url}", f"ghcr.io={url}"],
        retry=FAST_RETRY, sleep=lambda _: None,
    )


def test_oci_registry_answers_401_without_token(token_registry: Registry) -> None:
    r = httpx.get(f"{token_registry.url}/v2/library/debian/manifests/13.4")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer realm=")


def test_oci_anonymous_token_flow_and_token_reuse(
    token_registry: Registry, content: Content, tmp_path: Path
) -> None:
    c = client(token_registry.url, tmp_path / "none")
    first = c.resolve("debian", "13.4", PLATFORMS)
    second = c.resolve("debian", "13.5", PLATFORMS)
    c.get_manifest("debian", first.platforms["linux/amd64"])
    assert first.digest == content.image("library/debian", "13.4").index_digest
    assert second.digest == content.image("library/debian", "13.5").index_digest
    issuer = token_registry.issuer
    assert issuer is not None
    # One token for the repository, reused across tags and manifests; anonymous.
    assert issuer.requests == [(("repository:library/debian:pull",), None)]
    tokens = [r for r in c.requests if "(token" in r]
    assert len(tokens) == 1
    # 401 once (learning the challenge), then HEAD + GET with the token, no more 401s.
    methods = [r.split(" ")[0] for r in c.requests if "(token" not in r]
    assert methods == ["HEAD", "HEAD", "GET", "HEAD", "GET", "GET"]


def test_oci_private_repository_denied_anonymously_names_sources(
    token_registry: Registry, tmp_path: Path
) -> None:
    with pytest.raises(RegistryAuthError) as info:
        client(token_registry.url, tmp_path / "none").resolve(
            "ghcr.io/astral-sh/uv", "0.11.6-python3.13-trixie", PLATFORMS)
    text = info.value.diagnostics()
    assert "401" in text and "anonymous" in text
    assert "config.json" in text
    assert token_registry.host in text


def test_oci_credentials_from_docker_config_auths(
    token_registry: Registry, content: Content, tmp_path: Path
) -> None:
    auth = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    write_docker_config(tmp_path / "dc", {"auths": {token_registry.host: {"auth": auth}}})
    c = client(token_registry.url, tmp_path / "dc")
    resolved = c.resolve("ghcr.io/astral-sh/uv", "0.11.6-python3.13-trixie", PLATFORMS)
    assert resolved.digest == content.image("astral-sh/uv", "0.11.6-python3.13-trixie").index_digest
    assert token_registry.issuer is not None
    assert token_registry.issuer.requests == [(("repository:astral-sh/uv:pull",), "alice")]


def test_oci_wrong_password_names_source_never_secret(
    token_registry: Registry, tmp_path: Path
) -> None:
    wrong = "not-the-password-xyz"
    auth = base64.b64encode(f"alice:{wrong}".encode()).decode()
    write_docker_config(tmp_path / "dc", {"auths": {f"https://{token_registry.host}": {
        "auth": auth}}})
    with pytest.raises(RegistryAuthError) as info:
        client(token_registry.url, tmp_path / "dc").resolve(
            "ghcr.io/astral-sh/uv", "0.11.6-python3.13-trixie", PLATFORMS)
    text = info.value.diagnostics()
    assert "alice" in text and "auths[" in text
    assert wrong not in text and auth not in text
    assert wrong not in repr(info.value.__cause__) + repr(info.value.__context__)


@pytest.mark.parametrize("kind", ["credHelpers", "credsStore"])
def test_oci_credentials_from_credential_helper(
    token_registry: Registry, content: Content, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, kind: str,
) -> None:
    log = tmp_path / "helper.log"
    write_credential_helper(tmp_path / "bin", "pinlocktest",
                            {token_registry.host: ("alice", SECRET)}, log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    cfg = ({"credHelpers": {token_registry.host: "pinlocktest"}} if kind == "credHelpers"
           else {"credsStore": "pinlocktest"})
    write_docker_config(tmp_path / "dc", cfg)
    c = make_registry_client({"DOCKER_CONFIG": str(tmp_path / "dc"),
                              "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"},
                             registry_mirrors=[f"ghcr.io={token_registry.url}"],
                             retry=FAST_RETRY)
    resolved = c.resolve("ghcr.io/astral-sh/uv", "0.11.7-python3.13-trixie", PLATFORMS)
    assert resolved.digest == content.image("astral-sh/uv", "0.11.7-python3.13-trixie").index_digest
    assert log.read_text().split() == [token_registry.host]  # asked once, for this host only
    assert token_registry.issuer is not None
    assert token_registry.issuer.requests[-1][1] == "alice"


def test_oci_basic_auth_registry(registry: Registry, content: Content, tmp_path: Path) -> None:
    with fault_proxy(registry.url, Faults(basic_auth=("bob", "hunter2-pw"))) as proxy:
        anonymous = client(proxy.url, tmp_path / "none")
        with pytest.raises(RegistryAuthError, match="Basic auth") as info:
            anonymous.resolve("debian", "13.4", PLATFORMS)
        assert proxy.host in info.value.message
        auth = base64.b64encode(b"bob:hunter2-pw").decode()
        write_docker_config(tmp_path / "dc", {"auths": {proxy.host: {"auth": auth}}})
        resolved = client(proxy.url, tmp_path / "dc").resolve("debian", "13.4", PLATFORMS)
    assert resolved.digest == content.image("library/debian", "13.4").index_digest
