"""Shared test helpers for pinlock's tests."""
