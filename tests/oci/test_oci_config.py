"""Where registries are reached, and where credentials come from (pure, plus helper scripts)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from support.oci_registry import write_credential_helper, write_docker_config

from pinlock.sources.oci.config import Endpoint, RegistryConfig, RegistryConfigError
from pinlock.sources.oci.credentials import CredentialError, DockerCredentials


def test_oci_default_endpoints_docker_hub_and_ghcr() -> None:
    cfg = RegistryConfig.from_env({})
    assert cfg.endpoints("docker.io/library/debian") == [
        Endpoint("https://registry-1.docker.io", "library/debian")]
    assert cfg.endpoints("ghcr.io/astral-sh/uv") == [Endpoint("https://ghcr.io", "astral-sh/uv")]
    assert cfg.endpoints("localhost:5000/x") == [Endpoint("http://localhost:5000", "x")]


def test_oci_env_and_cli_mirrors_replace_registry() -> None:
    env = {"PINLOCK_REGISTRY_MIRRORS":
           "ghcr.io=https://127.0.0.1:5443,docker.io=http://127.0.0.1:5000"}
    cfg = RegistryConfig.from_env(env, cli_mirrors=["docker.io=http://127.0.0.1:6000/hub"])
    assert cfg.endpoints("docker.io/library/debian") == [
        Endpoint("http://127.0.0.1:6000", "hub/library/debian", mirror=True)]
    assert cfg.endpoints("ghcr.io/astral-sh/uv") == [
        Endpoint("https://127.0.0.1:5443", "astral-sh/uv", mirror=True)]
    assert cfg.endpoints("quay.io/a/b") == [Endpoint("https://quay.io", "a/b")]


@pytest.mark.parametrize("value", ["docker.io", "docker.io=ftp://x", "=http://127.0.0.1:1",
                                   "docker.io=http://mirror.example.com"])
def test_oci_bad_mirror_values(value: str) -> None:
    with pytest.raises(RegistryConfigError) as info:
        RegistryConfig.from_env({"PINLOCK_REGISTRY_MIRRORS": value})
    assert "PINLOCK_REGISTRY_MIRRORS" in info.value.message


def test_oci_registries_conf(tmp_path: Path) -> None:
    conf = tmp_path / "registries.conf"
    conf.write_text(
        'unqualified-search-registries = ["docker.io"]\n'
        '[[registry]]\nprefix = "docker.io"\nlocation = "registry-1.docker.io"\n'
        '[[registry.mirror]]\nlocation = "mirror.example.com/hub"\n'
        '[[registry.mirror]]\nlocation = "10.0.0.5:5000"\ninsecure = true\n'
        '[[registry.mirror]]\nlocation = "digest.example.com"\npull-from-mirror = "digest-only"\n'
        '[[registry]]\nprefix = "docker.io/library/debian"\nlocation = "127.0.0.1:5000/deb"\n'
        '[[registry]]\nlocation = "evil.example.com"\nblocked = true\n'
    )
    cfg = RegistryConfig.from_env({"CONTAINERS_REGISTRIES_CONF": str(conf)})
    assert cfg.endpoints("docker.io/library/alpine") == [
        Endpoint("https://mirror.example.com", "hub/library/alpine", mirror=True),
        Endpoint("https://10.0.0.5:5000", "library/alpine", verify=False, mirror=True),
        Endpoint("http://10.0.0.5:5000", "library/alpine", verify=False, mirror=True),
        Endpoint("https://registry-1.docker.io", "library/alpine"),
    ]
    assert Endpoint("https://digest.example.com", "library/alpine", mirror=True) in \
        cfg.endpoints("docker.io/library/alpine", by_digest=True)
    # The longest prefix wins.
    assert cfg.endpoints("docker.io/library/debian") == [Endpoint("http://127.0.0.1:5000",
                                                                  "deb")]
    with pytest.raises(RegistryConfigError, match="blocked"):
        cfg.endpoints("evil.example.com/x")


def test_oci_registries_conf_errors(tmp_path: Path) -> None:
    conf = tmp_path / "registries.conf"
    conf.write_text("[[registry]\n")
    with pytest.raises(RegistryConfigError, match="not valid TOML"):
        RegistryConfig.from_env({"CONTAINERS_REGISTRIES_CONF": str(conf)})
    with pytest.raises(RegistryConfigError, match="cannot read"):
        RegistryConfig.from_env({"CONTAINERS_REGISTRIES_CONF": str(tmp_path / "missing")})


def test_oci_docker_config_auths_forms(tmp_path: Path) -> None:
    b64 = base64.b64encode(b"hubuser:hubpw").decode()
    write_docker_config(tmp_path, {"auths": {
        "https://index.docker.io/v1/": {"auth": b64},
        "ghcr.io": {"username": "gh", "password": "ghpw"},
        "http://127.0.0.1:5000/": {"auth": base64.b64encode(b"lo:lopw").decode()},
    }})
    creds = DockerCredentials(environ={"DOCKER_CONFIG": str(tmp_path)})
    hub = creds.lookup("registry-1.docker.io")
    assert hub is not None and (hub.username, hub.secret) == ("hubuser", "hubpw")
    gh = creds.lookup("ghcr.io")
    assert gh is not None and gh.secret == "ghpw"
    lo = creds.lookup("127.0.0.1:5000")
    assert lo is not None and lo.username == "lo"
    assert creds.lookup("quay.io") is None
    assert "hubpw" not in repr(hub) and "hubpw" not in str(hub)


def test_oci_docker_config_broken(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CredentialError, match="not valid JSON"):
        DockerCredentials(environ={"DOCKER_CONFIG": str(tmp_path)}).lookup("ghcr.io")


def test_oci_credential_helper_protocol(tmp_path: Path) -> None:
    log = tmp_path / "log"
    write_credential_helper(tmp_path / "bin", "t1", {"ghcr.io": ("u", "helper-secret")}, log)
    write_docker_config(tmp_path / "dc", {"credHelpers": {"ghcr.io": "t1"},
                                          "credsStore": "missing-helper"})
    env = {"DOCKER_CONFIG": str(tmp_path / "dc"), "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}
    creds = DockerCredentials(environ=env)
    got = creds.lookup("ghcr.io")
    assert got is not None and (got.username, got.secret) == ("u", "helper-secret")
    assert "docker-credential-t1" in got.source
    with pytest.raises(CredentialError, match=r"docker-credential-missing-helper.*not found"):
        creds.lookup("quay.io")
