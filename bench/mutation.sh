#!/usr/bin/env bash
# Mutation testing of the pure judgements and guards with Stryker.NET 5.1.0, against the fast unit tests only (no
# Docker, registry, moto or fake API server). Prints the mutation score per file and the survivors of every file under
# the goal; exits 1 when a file is under it. Slow on 2 cores (tens of minutes): not part of CI.
#
#   bench/mutation.sh                     the working tree (committed or not)
#   bench/mutation.sh --ref main          another commit, e.g. for a before/after comparison
#   bench/mutation.sh --only RolloutJudge one target while adding tests (names below)
#   bench/mutation.sh --concurrency 2     parallel test sessions (default 1: the cores are shared)
#   bench/mutation.sh --work DIR          work folder (default .nuke/temp/mutation; two runs at once need two)
#
# It mutates a copy of the sources under the work folder, so the work tree's own build outputs are never replaced
# by mutated assemblies. Results: <work>/scores.md and the Stryker reports next to it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

GOAL=80
ref=""
only=""
concurrency=1
WORK="$ROOT/.nuke/temp/mutation"
while [ $# -gt 0 ]; do
  case "$1" in
    --ref) ref="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --work) WORK="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench/mutation.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# name | project (under build/) | test project (under tests/) | file | class whose span is mutated (empty: whole file) | test classes
TARGETS=(
  "RolloutJudge|_build.csproj|Tesslate.Build.Tests|build/Kubernetes/RolloutJudge.cs||RolloutJudgeTests"
  "PodDiagnosis|_build.csproj|Tesslate.Build.Tests|build/Kubernetes/PodDiagnosis.cs||PodDiagnosisTests"
  "LeaseJudge|_build.csproj|Tesslate.Build.Tests|build/Kubernetes/DeployLock.cs|LeaseJudge|LeaseJudgeTests"
  "PlanSummary|_build.csproj|Tesslate.Build.Tests|build/Terraform/PlanSummary.cs||PlanSummaryTests"
  "ImageDecision|_build.csproj|Tesslate.Build.Tests|build/Images/ImageBuildPlan.cs||ImageDecisionTests ReleasePlanSummaryTests"
  "ReleaseSafety|_build.csproj|Tesslate.Build.Tests|build/Platform/ReleaseSafety.cs||ReleaseSafetyJudgementTests ReleasePlanSummaryTests"
  "Scheduler|Engine/Tesslate.Build.Engine.csproj|Tesslate.Build.Engine.Tests|build/Engine/Execution/Scheduler.cs||SchedulerTests"
)

TOOLS="$ROOT/.nuke/temp/tools"
STRYKER="$TOOLS/dotnet-stryker"
if [ ! -x "$STRYKER" ] || [ ! -d "$TOOLS/.store/dotnet-stryker/5.1.0" ]; then
  echo "bench/mutation.sh: dotnet tool install dotnet-stryker 5.1.0 into .nuke/temp/tools" >&2
  dotnet tool install --tool-path "$TOOLS" dotnet-stryker --version 5.1.0 >/dev/null
fi

case "$WORK" in "$ROOT"/.nuke/temp/*|/tmp/*) ;; *) echo "bench/mutation.sh: --work must be under .nuke/temp or /tmp (it is emptied first)" >&2; exit 2 ;; esac
SRC="$WORK/src"
rm -rf "$WORK"
mkdir -p "$SRC"
started=$SECONDS
if [ -n "$ref" ]; then
  git archive "$ref" | tar -x -C "$SRC"
  label="$(git rev-parse --short "$ref") ($ref)"
else
  git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -x -C "$SRC"
  label="working tree at $(git rev-parse --short HEAD)"
fi

# "file{start..end}": Stryker mutates only that span of characters, here one class of a larger file.
span_of() {
  python3 - "$1" "$2" <<'PY'
import re, sys
path, name = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8-sig").read()
decl = re.search(r"^(?:public |internal )?(?:static |sealed )*(?:partial )?(?:class|record) " + re.escape(name) + r"\b", text, re.M)
if not decl:
    sys.exit(f"bench/mutation.sh: class {name} not found in {path}")
end = re.compile(r"^}\s*$", re.M).search(text, decl.end())
print(f"{{{decl.start()}..{end.end() if end else len(text)}}}")
PY
}

# One Stryker run per project: one compilation, every file of that project, the union of their test classes.
projects=()
for target in "${TARGETS[@]}"; do
  IFS='|' read -r name project _ _ _ _ <<<"$target"
  [ -z "$only" ] || [ "$only" = "$name" ] || continue
  [[ " ${projects[*]} " == *" $project "* ]] || projects+=("$project")
done
[ ${#projects[@]} -gt 0 ] || { echo "bench/mutation.sh: no target named $only" >&2; exit 2; }

for project in "${projects[@]}"; do
  mutate=()
  filters=()
  tests=""
  for target in "${TARGETS[@]}"; do
    IFS='|' read -r name p testproject file class classes <<<"$target"
    [ "$p" = "$project" ] || continue
    [ -z "$only" ] || [ "$only" = "$name" ] || continue
    tests="$testproject"
    [ -f "$SRC/$file" ] || { echo "bench/mutation.sh: $file does not exist in $label" >&2; exit 1; }
    span=""
    [ -z "$class" ] || span="$(span_of "$SRC/$file" "$class")"
    mutate+=("\"**/${file#build/}$span\"")
    for c in $classes; do
      [[ " ${filters[*]} " == *" FullyQualifiedName~$c "* ]] || filters+=("FullyQualifiedName~$c")
    done
  done
  out="$WORK/$(basename "$project" .csproj)"
  mkdir -p "$out"
  config="$SRC/build/stryker-$(basename "$project" .csproj).json"
  # xUnit v3 runs tests out of process: only the Microsoft Testing Platform runner sees the mutants, and it has no
  # per-test coverage, so every mutant runs the (few, fast) selected tests.
  cat >"$config" <<EOF
{
  "stryker-config": {
    "project": "$(basename "$project")",
    "test-projects": ["../tests/$tests/$tests.csproj"],
    "mutate": [$(IFS=,; echo "${mutate[*]}")],
    "test-case-filter": "$(IFS='|'; echo "${filters[*]}")",
    "test-runner": "mtp",
    "coverage-analysis": "off",
    "configuration": "Release",
    "concurrency": $concurrency,
    "reporters": ["json", "html", "progress"]
  }
}
EOF
  echo "bench/mutation.sh: Stryker on $project ($(IFS=,; echo "${mutate[*]}")), tests: ${filters[*]}" >&2
  # Run from build/ (not the solution folder: Stryker would then ignore the test project given).
  (cd "$SRC/build" && "$STRYKER" -f "$config" -O "$out" --skip-version-check >"$out/stryker.log" 2>&1) \
    || { tail -n 30 "$out/stryker.log" >&2; echo "bench/mutation.sh: Stryker failed on $project (log: $out/stryker.log)" >&2; exit 1; }
done
elapsed=$((SECONDS - started))

python3 - "$WORK" "$GOAL" "$label" "$elapsed" "$only" "${TARGETS[@]}" <<'PY'
import glob, json, os, sys
work, goal, label, elapsed, only, targets = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6:]
files = {}
for report in glob.glob(os.path.join(work, "*", "reports", "mutation-report.json")):
    for path, entry in json.load(open(report))["files"].items():
        files[path.replace("\\", "/")] = entry["mutants"]
rows, survivors, below = [], [], []
for target in targets:
    name, _, _, file, _, _ = target.split("|")
    if only and only != name:
        continue
    mutants = next((m for p, m in files.items() if p.endswith("/" + file)), None)
    if mutants is None:
        sys.exit(f"bench/mutation.sh: no report for {file}")
    count = lambda *states: sum(1 for m in mutants if m["status"] in states)
    killed, timeout, survived, uncovered = count("Killed"), count("Timeout"), count("Survived"), count("NoCoverage")
    valid = killed + timeout + survived + uncovered
    if valid == 0:
        sys.exit(f"bench/mutation.sh: no mutant was tested in {file} (span or filter wrong?)")
    score = 100.0 * (killed + timeout) / valid
    rows.append(f"| {name} | `{file}` | {valid} | {killed + timeout} | {survived + uncovered} | {score:.1f}% | {'yes' if score >= goal else 'NO'} |")
    if score < goal:
        below.append(name)
    for m in mutants:
        if m["status"] in ("Survived", "NoCoverage"):
            survivors.append(f"  {file}:{m['location']['start']['line']}  {m['mutatorName']}: {m.get('replacement', '').strip()[:100]}")
lines = [f"Mutation scores, {label}, {elapsed // 60}m{elapsed % 60:02d}s:", "",
         "| target | file | mutants | killed | survived | score | >= %d%% |" % goal, "|---|---|---|---|---|---|---|", *rows]
print("\n".join(lines))
if survivors:
    print("\nSurvivors:\n" + "\n".join(survivors))
with open(os.path.join(work, "scores.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"\nFAIL: under {goal:.0f}%: {', '.join(below)}" if below else f"\nOK: every file at {goal:.0f}% or more")
sys.exit(1 if below else 0)
PY
