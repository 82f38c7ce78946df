#!/usr/bin/env bash
# Warm start of the pipeline, side by side in one run, median of N runs each (default 10):
#   ./build.sh --help and ./build.sh Deploy --environment beta --plan against an empty .NET console program run the
#   same way (`dotnet <dll>`, built once into a temp dir): goal (issue 18) each <= 3.5x the empty program;
#   ./build.sh --help against `dotnet run --project build/_build.csproj -- --help`: goal (issue 2) >= 6x faster.
# Also checks that a warm ./build.sh starts no MSBuild and no `dotnet build` (a logging dotnet shim first on PATH;
# strace too, where present).
# Usage: bench/startup.sh [runs]
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

# Prints the median of microsecond times given as arguments, in milliseconds.
median_of() {
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m / 1000}'
}

# Wall time of one run of the command in microseconds.
time_us() {
  local start end
  start="$(now_ns)"
  "$@" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; exit 1; }
  end="$(now_ns)"
  echo $(((end - start) / 1000))
}

# Prints the median wall time in milliseconds of RUNS runs of the command.
median_ms() {
  local i times=()
  for ((i = 0; i < RUNS; i++)); do
    times+=("$(time_us "$@")")
  done
  median_of "${times[@]}"
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

echo "== build once: an empty console program (the floor)"
EMPTY="$SHIM/empty"
mkdir -p "$EMPTY/src"
cat >"$EMPTY/src/empty.csproj" <<'EOF'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
  </PropertyGroup>
</Project>
EOF
echo 'return 0;' >"$EMPTY/src/Program.cs"
# Outside the repository: no Directory.Build.props of ours; the SDK global.json names.
cp global.json "$EMPTY/src/"
dotnet build "$EMPTY/src/empty.csproj" -c Release -nologo -v:quiet -tl:off -o "$EMPTY/bin" >"$EMPTY/build.log" 2>&1 \
  || { cat "$EMPTY/build.log" >&2; echo "bench: building the empty program failed" >&2; exit 1; }
dotnet "$EMPTY/bin/empty.dll"

echo "== warm-up: dotnet run --project build/_build.csproj -- --help"
dotnet run --project build/_build.csproj -- --help >/dev/null 2>&1

echo "== median of $RUNS runs each (floor, --help and --plan interleaved: one of each per round, so a change of load hits all three)"
floor_t=() warm_t=() plan_t=()
for ((i = 0; i < RUNS; i++)); do
  floor_t+=("$(time_us dotnet "$EMPTY/bin/empty.dll")")
  warm_t+=("$(time_us ./build.sh --help)")
  plan_t+=("$(time_us ./build.sh Deploy --environment beta --plan)")
done
floor="$(median_of "${floor_t[@]}")"
warm="$(median_of "${warm_t[@]}")"
plan="$(median_of "${plan_t[@]}")"
run="$(median_ms dotnet run --project build/_build.csproj -- --help)"
dll="$(median_ms dotnet .nuke/temp/bin/_build.dll --help)"
apphost=""
[ -x .nuke/temp/bin/_build ] && apphost="$(DOTNET_ROOT="$(dirname "$(readlink -f "$(command -v dotnet)")")" median_ms .nuke/temp/bin/_build --help)"
ratio="$(awk -v a="$warm" -v b="$run" 'BEGIN {printf "%.1f", b / a}')"
help_x="$(awk -v a="$warm" -v f="$floor" 'BEGIN {printf "%.2f", a / f}')"
plan_x="$(awk -v a="$plan" -v f="$floor" 'BEGIN {printf "%.2f", a / f}')"
printf '%-60s %8s ms\n' "dotnet <empty console program>.dll (the floor)" "$floor"
printf '%-60s %8s ms  %sx the floor\n' "./build.sh --help (warm)" "$warm" "$help_x" \
  "./build.sh Deploy --environment beta --plan (warm)" "$plan" "$plan_x"
printf '%-60s %8s ms\n' "dotnet run --project build/_build.csproj -- --help" "$run"
printf '%-60s %8s ms\n' "dotnet .nuke/temp/bin/_build.dll --help (what build.sh runs)" "$dll"
[ -n "$apphost" ] && printf '%-60s %8s ms\n' ".nuke/temp/bin/_build --help (apphost)" "$apphost"
printf 'ratio: ./build.sh is %sx faster than dotnet run\n' "$ratio"
awk -v a="$warm" -v r="$ratio" 'BEGIN {
  printf "goal: warm <= 300 ms: %s; >= 6x faster: %s\n", (a <= 300 ? "met" : "NOT met"), (r >= 6 ? "met" : "NOT met") }'
awk -v h="$help_x" -v p="$plan_x" 'BEGIN {
  printf "goal: --help and --plan each <= 3.5x the empty program: %s\n", (h <= 3.5 && p <= 3.5 ? "met" : "NOT met") }'
exit "$verdict"
