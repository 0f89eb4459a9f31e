"""Benchmarks: `make bench` runs them all and prints their numbers (see README)."""
