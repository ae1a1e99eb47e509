#!/usr/bin/env bash
# Reproduces every table in README.md: the Go benchmarks (baseline and
# Meltica side by side, -count 6, compared with benchstat) and the latency
# harness at 1k, 20k and 50k msg/s. Results go to results/.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$(go env GOPATH)/bin:$PATH"
command -v benchstat >/dev/null || go install golang.org/x/perf/cmd/benchstat@latest
count=${COUNT:-6}
go test -run '^$' -bench . -benchmem -count "$count" . | tee results/bench.txt
{
  benchstat -filter '.name:Decode' -col /impl results/bench.txt
  benchstat -filter '.name:(Pipeline OR Fanout)' -col '/impl@(baseline meltica)' results/bench.txt
  benchstat -filter '.name:WSRead' -col '/impl@(gorilla meltica)' results/bench.txt
} | tee results/benchstat.txt
go run ./cmd/latency -rates 1000,20000,50000 -duration 10s -warmup 2s | tee results/latency.txt
