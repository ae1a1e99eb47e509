#!/usr/bin/env bash
# Reproduces every table in README.md; each target is one command. Results
# go to results/. Run on an idle machine for numbers worth publishing; the
# header of every output says the load average it ran under.
#
#   ./run.sh bench       Go benchmarks, -count $COUNT (6), and benchstat tables
#   ./run.sh dispatch    only Fanout 1/4/16/64, Pipeline 1/4/16 and WSRead
#   ./run.sh latency     the latency harness at 1k and 20k msg/s, 10 s each
#   ./run.sh soak-short  a 3-minute soak at 20k msg/s (proves the reporting)
#   ./run.sh soak60      the 60-minute soak at 20k msg/s
#   ./run.sh soak24h     the 24-hour soak at 20k msg/s
#   ./run.sh all         bench, then latency (the default)
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$(go env GOPATH)/bin:$PATH"
count=${COUNT:-6}
mkdir -p results

need_benchstat() {
  command -v benchstat >/dev/null || go install golang.org/x/perf/cmd/benchstat@latest
}

tables() { # $1: the raw benchmark output
  benchstat -filter '.name:Decode' -col /impl "$1"
  benchstat -filter '.name:(Pipeline OR Fanout)' -col '/impl@(baseline meltica)' "$1"
  benchstat -filter '.name:(WSRead OR WSReadMem)' -col '/impl@(gorilla coder meltica meltica-noutf8)' "$1"
}

bench() { # $1: benchmark regexp, $2: output name
  need_benchstat
  { uptime; go version; } > "results/$2.machine.txt"
  go test -run '^$' -bench "$1" -benchmem -count "$count" . | tee "results/$2.txt"
  tables "results/$2.txt" | tee "results/$2.benchstat.txt"
}

latency() {
  go run ./cmd/latency -rates 1000,20000 -duration 10s -warmup 2s | tee results/latency.txt
}

soak() { # $1: duration, $2: output name
  go run ./cmd/latency -soak -rate 20000 -duration "$1" -sample "${SAMPLE:-10s}" | tee "results/$2.txt"
}

case "${1:-all}" in
  bench)      bench . bench ;;
  dispatch)   bench 'Fanout|Pipeline|WSRead' dispatch ;;
  latency)    latency ;;
  soak-short) SAMPLE=${SAMPLE:-5s} soak 3m soak-3m ;;
  soak60)     soak 60m soak-60m ;;
  soak24h)    SAMPLE=${SAMPLE:-1m} soak 24h soak-24h ;;
  all)        bench . bench; latency ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
