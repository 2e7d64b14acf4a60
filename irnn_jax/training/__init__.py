"""Training: a config built once into a run (parts), the pure train and eval steps, the
optimiser chains, the fit loop with its guard and log, the workdir and its checkpoints, memory
estimates, and sweeps of many runs at once."""
