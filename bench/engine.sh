#!/usr/bin/env bash
# Scheduler benchmark: a diamond of six targets that each wait 1 s (critical path 4 s, sum 6 s), run side by side
# and with --no-parallel in the same run. Goal: parallel wall time within 10% of the critical path.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TESSLATE_ARTIFACTS="${TESSLATE_ARTIFACTS:-/tmp/artifacts-bench}"
dotnet build "$repo/tests/Tesslate.Build.Engine.Tests" -v q -nologo >/dev/null
exe="$TESSLATE_ARTIFACTS/bin/Tesslate.Build.Engine.Tests/debug/Tesslate.Build.Engine.Tests"
out="$(mktemp)"
TESSLATE_BENCH_OUTPUT="$out" "$exe" -explicit only -class Tesslate.Build.Engine.Tests.DiamondBenchmark >/dev/null
cat "$out"; rm -f "$out"
