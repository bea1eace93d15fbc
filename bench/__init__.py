"""Benchmarks that print JSON (not part of the test run)."""
