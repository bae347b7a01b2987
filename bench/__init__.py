"""Benchmarks run by `make bench`: our code against a reference measured in the same run.

Machines are shared and noisy, so every figure is a ratio against a baseline timed in the
same process (or, for cold starts, in fresh processes started back to back), printed with
the absolute seconds beside it. `bench.run` prints one table and writes the results as JSON
under bench/results/ (git-ignored). `bench.measure` holds the timing and reporting helpers;
`bench.analytics` the customer-analytics cases (RFM, cohorts, BG/NBD, import cost).
"""
