#!/usr/bin/env bash
# Ten simulated rollouts (2–5 s each, fake API server) followed in parallel by RolloutWaiter.
# Goal: total wait within 10% of the slowest rollout, not the sum. Prints one line per run.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
export TESSLATE_BENCH=1 TESSLATE_BENCH_OUT="$out"
dotnet build tests/Tesslate.Build.Tests -c Release --nologo -v q >/dev/null
for _ in $(seq "$runs"); do
  dotnet test tests/Tesslate.Build.Tests -c Release --no-build --nologo -v q \
    --filter "FullyQualifiedName~RolloutBenchmark" >/dev/null
done
cat "$out"
awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^overhead=/) { sub("overhead=", "", $i); sub("%", "", $i); if ($i + 0 > 10) bad = 1 } }
     END { if (bad) { print "FAIL: total exceeded the slowest rollout by more than 10%"; exit 1 } else print "OK: every run within 10% of the slowest" }' "$out"
