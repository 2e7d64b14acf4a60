#!/bin/bash
# Part of the measurement in benchmarks/results/pace_beside_a_run-20261201T204500Z.json.
# one IRNN T=300 B=16 run of 1500 steps on core 0; prints the median logged steps/s
d=$(mktemp -d)
cd /work/main
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" taskset -c 0 .venv/bin/irnn-jax train --config adding:T=300 --workdir $d/run --progress none --config.optim.name=adam --config.optim.lr=3e-4 --config.optim.clip=1.0 --config.train.steps=1500 --config.train.eval_every=1500 --config.task.held_out_size=256 > /dev/null 2>&1
.venv/bin/python -c "
import json, statistics
l=[json.loads(x) for x in open('$d/run/metrics.jsonl')]
r=[x['steps_per_s'] for x in l if x['split']=='train'][1:]
print(round(statistics.median(r),1))"
rm -rf $d
