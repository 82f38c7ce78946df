#!/usr/bin/env bash
# BuildImages benchmark: four fixture images that each wait ~3 s (RUN sleep 3 on a busybox base built first),
# parallel (--build-parallelism 4) against --build-parallelism 1, then an unchanged second run.
# Goals: parallel <= 0.4x serial; unchanged rerun: BuildImages target <= 0.05x, whole ./build.sh process <= 0.2x.
#
#   bench/images.sh                 via the explicit benchmark test (ImageBuildBenchmark): no wiring needed
#   bench/images.sh --via build.sh  via ./build.sh BuildImages --environment local (needs the target wired)
#
# Needs: docker.io + docker-registry (Debian) and busybox-static. Engine: DOCKER_HOST / TESSLATE_TEST_DOCKER_HOST,
# else a private dockerd is started (root). Registry: BENCH_REGISTRY / TESSLATE_TEST_REGISTRY, else one is started on
# 127.0.0.1. The client is Debian's /usr/bin/docker 20.10 (DOCKER_EXE); a newer CLI without buildx cannot use BuildKit here.
set -euo pipefail

via=test
[[ "${1:-}" == "--via" ]] && via="${2:?--via test|build.sh}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOCKER_EXE="${DOCKER_EXE:-$( [[ -x /usr/bin/docker ]] && echo /usr/bin/docker || command -v docker )}"
export TESSLATE_ARTIFACTS="${TESSLATE_ARTIFACTS:-/tmp/artifacts-bench}"

if [[ "$via" == "test" ]]; then
  dotnet build "$repo/tests/Tesslate.Build.Tests" -v q -nologo >/dev/null
  exe="$TESSLATE_ARTIFACTS/bin/Tesslate.Build.Tests/debug/Tesslate.Build.Tests"
  [[ -x "$exe" ]] || exe="$repo/tests/Tesslate.Build.Tests/bin/Debug/net10.0/Tesslate.Build.Tests"
  out="$(mktemp)"
  TESSLATE_BENCH_OUTPUT="$out" "$exe" -explicit only -class Tesslate.Build.Tests.Images.ImageBuildBenchmark >/dev/null
  cat "$out"; rm -f "$out"
  exit 0
fi

work="$(mktemp -d /tmp/tesslate-bench-XXXXXX)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; sleep 1; rm -rf "$work" 2>/dev/null || true; }
trap cleanup EXIT

host="${DOCKER_HOST:-${TESSLATE_TEST_DOCKER_HOST:-}}"
if [[ -z "$host" ]] || ! "$DOCKER_EXE" -H "$host" info >/dev/null 2>&1; then
  host="unix://$work/docker.sock"
  setsid /usr/sbin/dockerd --host "$host" --data-root "$work/docker" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
    --bridge=none --iptables=false >"$work/dockerd.log" 2>&1 </dev/null &
  pids+=($!)
  for _ in $(seq 1 60); do "$DOCKER_EXE" -H "$host" info >/dev/null 2>&1 && break; sleep 0.5; done
fi
export DOCKER_HOST="$host"

registry="${BENCH_REGISTRY:-${TESSLATE_TEST_REGISTRY:-}}"
if [[ -z "$registry" ]]; then
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  registry="127.0.0.1:$port"
  printf 'version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: %s/registry}}\nhttp: {addr: "%s"}\n' "$work" "$registry" >"$work/registry.yml"
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do curl -fs "http://$registry/v2/" >/dev/null && break; sleep 0.5; done
fi

# The busybox base, from Debian's busybox-static: nothing is pulled.
mkdir -p "$work/busybox" && cp /bin/busybox "$work/busybox/"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n' >"$work/busybox/Dockerfile"
"$DOCKER_EXE" build -q -t tesslate-bench/busybox:1 "$work/busybox" >/dev/null

# A git copy of the fixture app whose four Dockerfiles wait 3 s each.
app="$work/app"
cp -r "$repo/tests/fixtures/app" "$app"
for f in orchestrator/Dockerfile app/Dockerfile.prod services/ast/Dockerfile packages/tesslate-marketplace/Dockerfile; do
  printf 'FROM tesslate-bench/busybox:1\nRUN ["/bin/busybox", "sleep", "3"]\n' >"$app/$f"
done
git -C "$app" init -q && git -C "$app" add -A && git -C "$app" -c user.name=bench -c user.email=bench@example.com commit -qm bench

# The target writes its build report here (BENCH_REPORT overrides); its "duration" is the target's own time.
report="${BENCH_REPORT:-$repo/.nuke/temp/build-report.json}"
run() { # prints the process wall time in seconds; the build report gives the target's own duration
  local start end
  start=$(date +%s.%N)
  "$repo/build.sh" BuildImages --environment local --registry "$registry" --source-root "$app" \
    --images backend,frontend,ast,marketplace "$@" >"$work/last.log" 2>&1 \
    || { tail -40 "$work/last.log"; exit 1; }
  end=$(date +%s.%N)
  calc "$end - $start"
}
calc() { python3 -c "print(round($1, 3))"; }
target() { python3 -c 'import json,sys,re; d=json.load(open(sys.argv[1]))["duration"]; h,m,s=d.split(":"); print(int(h)*3600+int(m)*60+float(s))' "$report"; }

run --force-build >/dev/null # warm-up: first push of each repository
parallel=$(run --force-build --no-cache --build-parallelism 4); parallel_target=$(target)
serial=$(run --force-build --no-cache --build-parallelism 1)
unchanged=$(run); unchanged_target=$(target)
echo "4 images x RUN sleep 3 via ./build.sh BuildImages --environment local (registry $registry)"
echo "parallel (--build-parallelism 4): ${parallel}s   serial (--build-parallelism 1): ${serial}s   ratio $(calc "$parallel / $serial")x (goal <= 0.40x)"
echo "unchanged rerun: target ${unchanged_target}s = $(calc "$unchanged_target / $parallel_target")x (goal <= 0.05x); process ${unchanged}s = $(calc "$unchanged / $parallel")x (goal <= 0.20x)"
