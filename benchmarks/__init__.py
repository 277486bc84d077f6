"""Benchmarks: Tempox against a baseline measured in the same run on the same machine."""
