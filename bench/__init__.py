"""Benchmarks (not tests): `make bench` or `python -m bench`. Each result is a figure with a
baseline measured in the same run, or a ratio of the two."""
