"""Retry policies for tests: pinlock's real backoff logic, with waits that cost no time."""

from __future__ import annotations

from pinlock.http import RetryPolicy

# Waits of milliseconds, really slept: the OCI tests against real registries and fault proxies.
FAST_RETRY = RetryPolicy(attempts=3, backoff=0.001, max_wait=0.01, max_total=0.5)
# Waits recorded instead of slept (``sleep=sleeps.append``): max_wait is seconds so that the
# GitHub tests see a server's Retry-After (2 s, say) kept as asked, not cut to milliseconds.
RECORDED_RETRY = RetryPolicy(attempts=3, backoff=0.01, max_wait=5.0, max_total=10.0)
