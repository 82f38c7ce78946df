#!/usr/bin/env bash
# Warm start of the pipeline: `./build.sh --help` against `dotnet run --project build/_build.csproj -- --help`,
# median of N runs each (default 10) on this machine in this run, and their ratio. Also checks that a warm
# ./build.sh starts no MSBuild and no `dotnet build` (a logging dotnet shim first on PATH; strace too, where present).
# Usage: bench/startup.sh [runs]        Goal (issue 2): warm median <= 0.3 s and >= 6x faster than dotnet run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-10}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

now_ns() {
  local t
  t="$(date +%s%N)"
  case "$t" in
    *N) perl -MTime::HiRes=time -e 'printf "%d\n", time * 1e9' ;;
    *) printf '%s\n' "$t" ;;
  esac
}

# Prints the median wall time in milliseconds of RUNS runs of the command.
median_ms() {
  local i start end times=()
  for ((i = 0; i < RUNS; i++)); do
    start="$(now_ns)"
    "$@" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; exit 1; }
    end="$(now_ns)"
    times+=($(((end - start) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m / 1000}'
}

echo "== warm-up: ./build.sh --help (builds the pipeline if its inputs changed)"
./build.sh --help >/dev/null

echo "== warm ./build.sh starts no MSBuild"
SHIM="$(mktemp -d)"
trap 'rm -rf "$SHIM"' EXIT
REAL_DOTNET="$(command -v dotnet)"
cat >"$SHIM/dotnet" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$SHIM/calls.log"
exec "$REAL_DOTNET" "\$@"
EOF
chmod +x "$SHIM/dotnet"
PATH="$SHIM:$PATH" ./build.sh --help >/dev/null # the stamp notes the new dotnet path (one SDK probe, no build)
: >"$SHIM/calls.log"
PATH="$SHIM:$PATH" ./build.sh --help >/dev/null
echo "dotnet calls of a warm run:"
sed 's/^/  dotnet /' "$SHIM/calls.log"
verdict=0
if grep -Eq '^(build|restore|msbuild|run|publish)( |$)|MSBuild\.dll' "$SHIM/calls.log"; then
  echo "FAIL: the warm run called MSBuild"
  verdict=1
fi
./build.sh --help >/dev/null # back to the dotnet on PATH (one SDK probe)
if command -v strace >/dev/null 2>&1 && strace -f -qq -e trace=execve -o "$SHIM/strace.log" true 2>/dev/null; then
  strace -f -qq -s 300 -e trace=execve -o "$SHIM/strace.log" ./build.sh --help >/dev/null
  echo "processes a warm run started (strace):"
  grep 'execve(' "$SHIM/strace.log" | grep -v ' = -1 ' | grep -o 'execve("[^"]*"' | sed 's/execve("//; s/"$//' \
    | sort | uniq -c | sed 's/^/  /'
  if grep -v ' = -1 ' "$SHIM/strace.log" | grep -Eq 'MSBuild\.dll|VBCSCompiler|csc\.dll|\["dotnet", "(build|restore|msbuild|run)"'; then
    echo "FAIL: the warm run started MSBuild or the compiler"
    verdict=1
  fi
fi
[ "$verdict" = 0 ] && echo "OK: no MSBuild, no dotnet build"

echo "== warm-up: dotnet run --project build/_build.csproj -- --help"
dotnet run --project build/_build.csproj -- --help >/dev/null 2>&1

echo "== median of $RUNS runs each"
warm="$(median_ms ./build.sh --help)"
run="$(median_ms dotnet run --project build/_build.csproj -- --help)"
dll="$(median_ms dotnet .nuke/temp/bin/_build.dll --help)"
apphost=""
[ -x .nuke/temp/bin/_build ] && apphost="$(DOTNET_ROOT="$(dirname "$(readlink -f "$(command -v dotnet)")")" median_ms .nuke/temp/bin/_build --help)"
ratio="$(awk -v a="$warm" -v b="$run" 'BEGIN {printf "%.1f", b / a}')"
printf '%-60s %8s ms\n' "./build.sh --help (warm)" "$warm" "dotnet run --project build/_build.csproj -- --help" "$run"
printf '%-60s %8s ms\n' "dotnet .nuke/temp/bin/_build.dll --help (what build.sh runs)" "$dll"
[ -n "$apphost" ] && printf '%-60s %8s ms\n' ".nuke/temp/bin/_build --help (apphost)" "$apphost"
printf 'ratio: ./build.sh is %sx faster than dotnet run\n' "$ratio"
awk -v a="$warm" -v r="$ratio" 'BEGIN {
  printf "goal: warm <= 300 ms: %s; >= 6x faster: %s\n", (a <= 300 ? "met" : "NOT met"), (r >= 6 ? "met" : "NOT met") }'
exit "$verdict"
