"""Tests of the download kind and its source."""
