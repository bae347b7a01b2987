"""Benchmarks run by `make bench`: our code against a reference measured in the same run.

Machines are shared and noisy, so every figure is a ratio against a baseline timed in the
same run (or, for cold starts, in fresh processes started back to back), printed with the
absolute figures beside it. `bench.run` runs the suites, prints one table and writes the
results as JSON under bench/results/ (git-ignored).

    measure      timing, percentiles, memory of this and child processes, the table, the JSON
    local        the emulators shared by the suites, function processes, bare baselines
    analytics    RFM, cohorts, BG/NBD vs DuckDB SQL; import costs
    retrieval    knowledge-base retrieval on 10,000 generated chunks vs bm25s
    llm_cost     tokens per weekly run and support reply; the monthly projection
    ingest       webhook messages per second vs a bare function
    cold_start   process start to first answer per function kind vs a bare function
    end_to_end   weekly run latency in the local cloud vs its floors; function memory
    bare_function/main.py   the bare functions-framework functions the baselines run
"""
