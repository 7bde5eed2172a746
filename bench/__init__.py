"""Benchmarks of Wasl at sizes S, M and L (not part of the test suite); see README.md."""
