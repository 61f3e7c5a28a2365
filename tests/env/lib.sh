# Shared helpers for the tests/env scripts. Sourced, not run.
#
# Every tool lives in "$AISERVICE_TESTENV_CACHE/<tool>-<version>/". A tool directory is only
# ever created by renaming a finished temporary directory into place, with a `.complete`
# stamp; it counts as finished only with that stamp and every file its caller expects, so an
# interrupted or failed build never leaves something a later run mistakes for a finished one.

set -euo pipefail

TESTENV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$TESTENV_DIR/versions.env"

AISERVICE_TESTENV_CACHE="${AISERVICE_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiservice-testenv}"
mkdir -p "$AISERVICE_TESTENV_CACHE"

log() { printf '[tests/env] %s\n' "$*" >&2; }

# The virtualenv of the pulumi Python SDK (tools/pulumi_python.sh); its key names every
# package pinned into it.
PULUMI_PYTHON_KEY="$PULUMI_VERSION-parver-$PARVER_VERSION-setuptools-$SETUPTOOLS_VERSION"
pulumi_python_dir() { tool_dir pulumi-python "$PULUMI_PYTHON_KEY"; }

# tool_dir NAME VERSION -> the final cache directory of a tool.
tool_dir() { printf '%s/%s-%s' "$AISERVICE_TESTENV_CACHE" "$1" "$2"; }

# is_complete DIR FILE... -> true when DIR has its stamp and each FILE exists, non-empty, in it.
is_complete() {
  local dir="$1" f
  shift
  [[ -f "$dir/.complete" ]] || return 1
  for f in "$@"; do
    [[ -s "$dir/$f" ]] || return 1
  done
}

# provision NAME VERSION BUILD_FN FILE... : unless the cache already holds a complete entry,
# runs BUILD_FN with a fresh temporary directory as its only argument, checks that FILE...
# exist in it, stamps it and renames it into place. A per-tool lock serialises concurrent
# runs (make demo beside make test) and lets us delete temporary directories of builds that
# were killed.
provision() {
  local name="$1" version="$2" build_fn="$3"
  shift 3
  local final tmp started lock_fd f
  final="$(tool_dir "$name" "$version")"
  is_complete "$final" "$@" && return 0
  exec {lock_fd}>"$AISERVICE_TESTENV_CACHE/.lock-$name"
  flock "$lock_fd"
  if is_complete "$final" "$@"; then
    exec {lock_fd}>&-
    return 0
  fi
  [[ -e "$final" ]] && log "cache entry $final is incomplete: rebuilding"
  rm -rf "$final" "$AISERVICE_TESTENV_CACHE/.tmp-$name-"*
  tmp="$(mktemp -d "$AISERVICE_TESTENV_CACHE/.tmp-$name-$version.XXXXXX")"
  started=$SECONDS
  log "building $name $version (this can take minutes; progress follows)"
  # Run the build as a background job and wait for it: `set -e` stays in force inside it,
  # which it would not be inside an `if` condition.
  ("$build_fn" "$tmp") &
  if ! wait $!; then
    rm -rf "$tmp"
    exec {lock_fd}>&-
    log "FAILED: $name $version did not build. Retry with: tests/env/provision $name"
    return 1
  fi
  for f in "$@"; do
    if [[ ! -s "$tmp/$f" ]]; then
      rm -rf "$tmp"
      exec {lock_fd}>&-
      log "FAILED: $name $version built but $f is missing. Retry with: tests/env/provision $name"
      return 1
    fi
  done
  date -u +%FT%TZ >"$tmp/.complete"
  mv "$tmp" "$final"
  exec {lock_fd}>&-
  log "built $name $version in $((SECONDS - started))s"
}

# go_module_field FIELD MODULE@VERSION: downloads a module into the module cache and prints
# one field of `go mod download -json` (GoMod: its go.mod file, Dir: its source).
go_module_field() {
  go mod download -json "$2" | sed -n 's/^\t"'"$1"'": "\(.*\)",$/\1/p'
}

# go_progress: filters `go build -v` output (one package path per line) to a progress line
# every 50 packages, and passes every other line (compiler errors) through in full.
go_progress() {
  awk '/^[^ #]+$/ { n++; if (n % 50 == 0) { printf "[tests/env]   ... %d packages compiled (%s)\n", n, $0 > "/dev/stderr"; fflush() }; next }
       { print > "/dev/stderr" }'
}
