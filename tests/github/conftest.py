"""Fixtures for the GitHub release source: a loopback GitHub, a client that never sleeps."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from support.fake_github import FakeGitHub
from support.retry import RECORDED_RETRY

from pinlock.http import RetryPolicy, make_client
from pinlock.sources.github.api import GitHubClient, GitHubConfig


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RECORDED_RETRY


@pytest.fixture
def token() -> str:
    return "ghp_" + secrets.token_hex(18)


@pytest.fixture
def fake(token: str) -> Iterator[FakeGitHub]:
    with FakeGitHub(token=token) as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with make_client(timeout=10.0) as client:
        yield client


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeGitHub, http: httpx.Client, token: str, sleeps: list[float]) -> GitHubClient:
    return GitHubClient(
        http, GitHubConfig(fake.api_url, token), retry=RECORDED_RETRY, sleep=sleeps.append
    )
