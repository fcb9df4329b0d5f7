"""Upstream sources: one module per kind of upstream, each implementing sources.interface.Source."""
