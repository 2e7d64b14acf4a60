from benchmarks import train_step


def test_the_benchmark_times_every_case_and_summarises_ratios_at_a_tiny_shape():
    cases = {**train_step.rnn_cases(2, 6, [1, 2])}
    cases |= train_step.gated_cases("lstm", 2, 6) | train_step.gated_cases("gru", 2, 6)
    timings = train_step.timed(cases, steps=2)
    assert set(timings) == set(cases)
    assert all(0 < t["min_ms"] <= t["median_ms"] <= t["max_ms"] for t in timings.values())
    results = [{"case": name, "batch": 2, "seq_len": 6, **timing} for name, timing in timings.items()]
    summary = train_step.summarize(results)
    assert len(summary) == 3
    assert (
        summary[0].startswith("RNN B=2 T=6: ours (ours fused, unroll 1)")
        and "pytorch nn.RNN / ours" in summary[0]
    )
    assert summary[1].startswith("LSTM B=2 T=6: ours (ours fused)") and "ours autodiff / ours" in summary[1]
    assert (
        summary[2].startswith("GRU B=2 T=6: ours (ours fused)")
        and "best flax (flax RNN(GRUCell))" in summary[2]
    )
    table = train_step.markdown(results)
    assert table.startswith("| T = 6 | B=2 |") and f"| {next(iter(cases))} | " in table
    assert table.count("\n") == len(cases) + 1  # a header, a rule and a row per case


def test_the_sweep_benchmark_trains_the_same_runs_both_ways_at_a_tiny_shape():
    from benchmarks import sweep

    result = sweep.measure(batch=2, seq_len=5, steps=2, runs=3)
    assert result["runs"] == 3 and result["sequential_s"] > 0 and result["vmapped_s"] > 0
    assert result["max_param_difference"] <= 0.1 * result["max_param_change"]  # the same runs both ways


def test_the_cpu_limits_benchmark_times_its_chains_and_they_agree_at_a_tiny_shape():
    import jax.numpy as jnp

    from benchmarks import cpu_limits

    w_hh, inputs, h0 = jnp.eye(train_step.HIDDEN) * 0.9, jnp.ones((5, 2, 1)), jnp.ones((2, train_step.HIDDEN))
    stored = cpu_limits.chain(w_hh, inputs, h0, store=True)
    assert stored.shape == (5, 2, train_step.HIDDEN)
    assert jnp.array_equal(stored[-1], cpu_limits.chain(w_hh, inputs, h0, store=False))
    cases = cpu_limits.cases(2, 5)
    timings = train_step.timed(cases, steps=2)
    faults = cpu_limits.page_faults_per_call(cases["chain, every state stored"], calls=2)
    assert faults >= 0 and cpu_limits.summarize(2, 5, timings, faults).startswith("B=2 T=5: chain ")


def test_time_to_solve_stops_each_contender_at_the_first_evaluation_below_the_threshold():
    from benchmarks import time_to_solve

    results = time_to_solve.run("irnn", seq_len=5, threshold=10.0, max_steps=4, eval_every=2)
    assert {"ours (loop)", "flax", "ours (fit)"} <= set(results)
    for name in ("ours (loop)", "flax"):
        assert results[name]["steps"] == 2 and results[name]["seconds"] > 0 and results[name]["mse"] < 10
    assert results["ours (fit)"]["steps"] == 2 and results["ours (fit)"]["seconds"] > 0
    unsolved = time_to_solve.run("irnn", seq_len=5, threshold=0.0, max_steps=4, eval_every=2)
    assert unsolved["ours (loop)"]["seconds"] is None and "ours (fit)" not in unsolved
