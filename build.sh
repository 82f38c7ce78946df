#!/usr/bin/env bash
# Bootstrap for the Tesslate.Build pipeline (Linux, macOS, Git Bash).
# Builds build/_build.csproj into .nuke/temp/bin only when its inputs changed, then runs it with every argument.
# Warm start (nothing changed) runs the built program directly: no MSBuild, no `dotnet build`, no SDK probe, and
# (GNU find) one `find` instead of hashing the inputs.
# build.ps1 does the same; both share .nuke/temp/build.stamp.
set -uo pipefail

case "${BASH_SOURCE[0]}" in */*) ROOT="${BASH_SOURCE[0]%/*}" ;; *) ROOT=. ;; esac
ROOT="$(cd "$ROOT" && pwd)"
TEMP_DIR="$ROOT/.nuke/temp"
BIN_DIR="$TEMP_DIR/bin"
STAMP="$TEMP_DIR/build.stamp"
BUILD_PROJECT="$ROOT/build/_build.csproj"
STAMP_FORMAT=2

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fail() {
  printf 'build.sh: %s\n' "$@" >&2
  exit 1
}

# One sha256 over the content and relative path of every build input, in a fixed (byte-wise) order.
# Same algorithm as build.ps1's, so the two scripts share the stamp.
inputs_hash() {
  local sha
  if command -v sha256sum >/dev/null 2>&1; then sha=(sha256sum)
  elif command -v shasum >/dev/null 2>&1; then sha=(shasum -a 256)
  else fail "neither sha256sum nor shasum is on PATH; install coreutils or perl."
  fi
  (
    cd "$ROOT" || exit 1
    {
      find build \( -name bin -o -name obj \) -prune -o -type f -print
      find . -maxdepth 1 -type f \( -name Directory.Build.props -o -name Directory.Build.targets \
        -o -name Directory.Packages.props -o -name global.json -o -name .editorconfig -o -iname nuget.config \) | cut -c3-
    } | LC_ALL=C sort -u | tr '\n' '\0' | xargs -0 "${sha[@]}" | sed 's/ [ *]/  /' | "${sha[@]}" | cut -c1-64
  )
}

# Path, size and modification time of every input hashed above, from one GNU `find` (elsewhere empty: then the hash
# decides). When it equals the listing saved beside the stamp, the inputs are the ones hashed then: no hashing.
inputs_listing() {
  local roots=(build) f
  for f in Directory.Build.props Directory.Build.targets Directory.Packages.props global.json .editorconfig \
    [Nn][Uu][Gg][Ee][Tt].[Cc][Oo][Nn][Ff][Ii][Gg]; do
    [ -f "$ROOT/$f" ] && roots+=("$f")
  done
  # exec: the command substitution's subshell becomes find (one process less on every start).
  cd "$ROOT" && exec find "${roots[@]}" \( -name bin -o -name obj \) -prune -o -type f -printf '%p %s %T@\n' 2>/dev/null
}

# Whether every input is older than a few seconds: an edit of the same size within the clock's granularity would
# leave the listing unchanged, so a listing with fresh files is not saved (Git's "racy" rule).
listing_settled() {
  local now line mtime
  printf -v now '%(%s)T' -1
  while IFS= read -r line; do
    mtime="${line##* }"
    mtime="${mtime%%.*}"
    [ "$mtime" -lt $((now - 2)) ] 2>/dev/null || return 1
  done <<<"$1"
}

# Reads the stamp's key=value lines into STAMP_<key> variables (shell builtins only: this is the warm path).
read_stamp() {
  STAMP_format="" STAMP_inputs="" STAMP_dotnet=""
  [ -f "$STAMP" ] || return 0
  local key value
  while IFS='=' read -r key value; do
    case "$key" in format | inputs | dotnet) printf -v "STAMP_$key" '%s' "$value" ;; esac
  done <"$STAMP"
}

# Whether an installed SDK version satisfies global.json's sdk.version under its rollForward policy.
version_satisfies() {
  local have="$1" want="$2" policy="$3" prerelease="$4"
  case "$have" in *-*) [ "$prerelease" = true ] || return 1 ;; esac
  local hm hn hb hp wm wn wb wp
  IFS=. read -r hm hn hp <<<"${have%%-*}"
  IFS=. read -r wm wn wp <<<"${want%%-*}"
  hb=$((10#${hp:0:1})); hp=$((10#${hp:1})); wb=$((10#${wp:0:1})); wp=$((10#${wp:1}))
  local h=$(((hm * 1000 + hn) * 100000 + hb * 1000 + hp)) w=$(((wm * 1000 + wn) * 100000 + wb * 1000 + wp))
  case "$policy" in
    disable) [ "$h" -eq "$w" ] ;;
    patch | latestPatch) [ "$hm.$hn.$hb" = "$wm.$wn.$wb" ] && [ "$h" -ge "$w" ] ;;
    feature | latestFeature) [ "$hm.$hn" = "$wm.$wn" ] && [ "$h" -ge "$w" ] ;;
    minor | latestMinor) [ "$hm" = "$wm" ] && [ "$h" -ge "$w" ] ;;
    major | latestMajor) [ "$h" -ge "$w" ] ;;
    *) return 1 ;;
  esac
}

json_value() {
  sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" "$ROOT/global.json" | head -n 1 | tr -d '[:space:]'
}

# Prints the root folder of a suitable SDK's dotnet, or explains how to get one and exits 1.
find_sdk() {
  local want policy prerelease sdks line version root
  want="$(json_value version)"
  policy="$(json_value rollForward)"
  prerelease="$(json_value allowPrerelease)"
  [ -n "$want" ] || fail "global.json has no sdk.version."
  [ -n "$policy" ] || policy=latestPatch
  [ -n "$prerelease" ] || prerelease=false
  local need
  case "$policy" in
    disable) need="exactly $want" ;;
    patch | latestPatch) need="${want%??}xx (patch >= ${want##*.})" ;;
    feature | latestFeature) need="${want%.*}.x >= $want" ;;
    minor | latestMinor) need="${want%%.*}.x >= $want" ;;
    *) need=">= $want" ;;
  esac
  local how="Install a .NET SDK $need (https://dotnet.microsoft.com/download/dotnet/${want%.*};
  or: apt-get install dotnet-sdk-${want%.*} / brew install --cask dotnet-sdk / winget install Microsoft.DotNet.SDK.${want%%.*}),
  then put its folder on PATH (or set DOTNET_ROOT and add \$DOTNET_ROOT to PATH) and run this script again."
  if [ -z "$DOTNET" ]; then
    fail "no 'dotnet' on PATH; global.json asks for SDK $want (rollForward $policy)." "$how"
  fi
  sdks="$("$DOTNET" --list-sdks 2>/dev/null)"
  while IFS= read -r line; do
    version="${line%% *}"
    root="${line#*[}"; root="${root%]}"; root="${root%/sdk}"; root="${root%\\sdk}"
    if [ -n "$version" ] && version_satisfies "$version" "$want" "$policy" "$prerelease"; then
      SDK_VERSION="$version"
      SDK_ROOT="$root"
    fi
  done <<<"$sdks"
  if [ -z "${SDK_VERSION:-}" ]; then
    fail "no installed .NET SDK satisfies global.json: it asks for $need (sdk.version $want, rollForward $policy)." \
      "'$DOTNET --list-sdks' found: $(printf '%s' "${sdks:-nothing}" | tr '\n' ';' | sed 's/;$//; s/;/; /g')" "$how"
  fi
}

# `hash` finds dotnet on PATH without a subshell (bash 4+ shows it in BASH_CMDS); older bash asks `command -v`.
DOTNET=""
hash dotnet 2>/dev/null && DOTNET="${BASH_CMDS[dotnet]:-}"
[ -n "$DOTNET" ] || DOTNET="$(command -v dotnet 2>/dev/null || true)"
BUILT_DLL="$BIN_DIR/_build.dll"
LISTING_FILE="$TEMP_DIR/build.inputs"
LISTING="$(inputs_listing)" || LISTING=""
read_stamp
SAVED_LISTING=""
[ -f "$LISTING_FILE" ] && { IFS= read -r -d '' SAVED_LISTING <"$LISTING_FILE" || true; }
if [ -n "$LISTING" ] && [ -n "$STAMP_inputs" ] && [ "$SAVED_LISTING" = "$STAMP_inputs"$'\n'"$LISTING"$'\n' ]; then
  HASH="$STAMP_inputs"
else
  HASH="$(inputs_hash)" || exit 1
fi

# Warm: same inputs, same dotnet as the stamp records, program present. Anything else checks the SDK again.
if [ ! -f "$BUILT_DLL" ] || [ "$STAMP_format" != "$STAMP_FORMAT" ] || [ "$STAMP_inputs" != "$HASH" ] \
  || [ "$STAMP_dotnet" != "$DOTNET" ]; then
  SDK_VERSION=""
  SDK_ROOT=""
  find_sdk
  if [ "$STAMP_inputs" != "$HASH" ] || [ ! -f "$BUILT_DLL" ] || [ "$STAMP_format" != "$STAMP_FORMAT" ]; then
    mkdir -p "$TEMP_DIR"
    rm -f "$STAMP"
    LOG="$TEMP_DIR/build.log"
    echo "build.sh: building build/_build.csproj (inputs changed) with .NET SDK $SDK_VERSION..." >&2
    # Own artifacts folder so this build never races a solution build over build/obj. Published ReadyToRun for this
    # machine's runtime (framework-dependent): precompiled code starts about twice as fast (docs/bootstrap.md).
    if ! "$DOTNET" publish "$BUILD_PROJECT" -c Release -nologo -v:quiet -clp:NoSummary -tl:off -nodeReuse:false \
      --use-current-runtime --self-contained false -p:PublishReadyToRun=true \
      -p:UseArtifactsOutput=true "-p:ArtifactsPath=$TEMP_DIR/artifacts" -o "$BIN_DIR" >"$LOG" 2>&1; then
      errors="$(grep -E '(error|warning) [A-Z]+[0-9]+' "$LOG" | sed 's/ \[[^]]*\]$//' | LC_ALL=C sort -u)"
      printf '%s\n' "${errors:-$(cat "$LOG")}" >&2
      fail "building build/_build.csproj failed (full log: $LOG)."
    fi
  fi
  printf 'format=%s\ninputs=%s\ndotnet=%s\ndotnet_root=%s\nsdk=%s\n' \
    "$STAMP_FORMAT" "$HASH" "$DOTNET" "$SDK_ROOT" "$SDK_VERSION" >"$STAMP.tmp" && mv -f "$STAMP.tmp" "$STAMP"
fi
if [ -n "$LISTING" ] && [ "$SAVED_LISTING" != "$HASH"$'\n'"$LISTING"$'\n' ] && listing_settled "$LISTING"; then
  printf '%s\n%s\n' "$HASH" "$LISTING" >"$LISTING_FILE.tmp" && mv -f "$LISTING_FILE.tmp" "$LISTING_FILE"
fi

# `dotnet _build.dll` starts as fast as the apphost (measured: docs/bootstrap.md) and needs no DOTNET_ROOT.
exec "$DOTNET" "$BUILT_DLL" "$@"
