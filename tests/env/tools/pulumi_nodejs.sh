# What Node.js programs (`runtime: nodejs`, run by language-hosts/pulumi-language-nodejs) need.
# Nothing is installed globally; there are two kinds of cache entries:
#
#   nodejs-<NODEJS_VERSION>/bin/node   the Node.js binary, taken out of the npm registry package
#       node-linux-<arch> (a registry package that ships the official binary). Debian's node is
#       20, older than @pulumi/pulumi 3.259.0 declares (`engines`: node >= 22).
#   pulumi-nodejs-<PULUMI_VERSION>-<hash>/node_modules   `npm ci` of one program's package.json
#       and package-lock.json, keyed by a hash of both (programs with the same manifests share
#       it). The harness symlinks it into its copy of the program, so `npm ci` (about 30 s on
#       2 cores even from a warm npm cache) runs once per lockfile instead of once per test.
#       The build fails unless the lockfile's @pulumi/pulumi is the CLI's version.
#
# npm's download cache is "$AISERVICE_TESTENV_CACHE/npm-cache" (content-addressed, so it needs no
# key): rebuilding an entry after a change to a lockfile downloads only what is new.

NPM_CACHE="$AISERVICE_TESTENV_CACHE/npm-cache"

build_nodejs() {
  local out="$1" dl="$1/.download" arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) log "nodejs: no node-linux package for $(uname -m)"; return 1 ;;
  esac
  mkdir -p "$dl" "$out/bin"
  log "nodejs: downloading node-linux-$arch@$NODEJS_VERSION from the npm registry"
  (cd "$dl" && npm pack --silent --cache "$NPM_CACHE" "node-linux-$arch@$NODEJS_VERSION" >/dev/null)
  tar -xzf "$dl"/node-linux-*.tgz -C "$dl" package/bin/node package/LICENSE
  mv "$dl/package/bin/node" "$out/bin/node"
  mv "$dl/package/LICENSE" "$out/LICENSE"
  rm -rf "$dl"
  [[ "$("$out/bin/node" --version)" == "v$NODEJS_VERSION" ]]
}

provision_nodejs() {
  provision nodejs "$NODEJS_VERSION" build_nodejs bin/node
}

# node_modules_version DIR: the cache version of the dependencies of the Node.js program DIR.
node_modules_version() {
  local dir="$1" hash
  if [[ ! -f "$dir/package.json" || ! -f "$dir/package-lock.json" ]]; then
    log "$dir needs a package.json and a committed package-lock.json"
    return 1
  fi
  hash="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -c1-12)"
  printf '%s-%s' "$PULUMI_VERSION" "$hash"
}

# The program directory build_pulumi_nodejs installs (provision passes only the output dir).
NODE_PROGRAM_DIR=""

build_pulumi_nodejs() {
  local out="$1" node_bin wanted locked
  node_bin="$(tool_dir nodejs "$NODEJS_VERSION")/bin"
  cp "$NODE_PROGRAM_DIR/package.json" "$NODE_PROGRAM_DIR/package-lock.json" "$out/"
  wanted="${PULUMI_VERSION#v}"
  locked="$(cd "$out" && "$node_bin/node" -p \
    'require("./package-lock.json").packages["node_modules/@pulumi/pulumi"]?.version')"
  if [[ "$locked" != "$wanted" ]]; then
    log "$NODE_PROGRAM_DIR locks @pulumi/pulumi $locked but the CLI is $PULUMI_VERSION; there, run:"
    log "  npm install --save-exact --omit-lockfile-registry-resolved @pulumi/pulumi@$wanted"
    return 1
  fi
  log "pulumi-nodejs: npm ci for $NODE_PROGRAM_DIR"
  # Install scripts are skipped: the one in this tree (protobufjs' postinstall) only checks
  # its own CLI's dependencies, and skipping keeps the entry independent of the machine.
  (cd "$out" && PATH="$node_bin:$PATH" npm ci --ignore-scripts --no-audit --no-fund \
    --prefer-offline --loglevel=error --cache "$NPM_CACHE" >&2)
}

# provision_node_modules DIR: provisions Node.js and the dependencies of the program DIR.
provision_node_modules() {
  local version
  provision_nodejs
  NODE_PROGRAM_DIR="$(cd "$1" && pwd)"
  version="$(node_modules_version "$NODE_PROGRAM_DIR")"
  provision pulumi-nodejs "$version" build_pulumi_nodejs node_modules/@pulumi/pulumi/package.json
}

# node_modules_dir DIR: prints where the dependencies of the program DIR are cached.
node_modules_dir() {
  printf '%s/node_modules\n' "$(tool_dir pulumi-nodejs "$(node_modules_version "$1")")"
}

# provision_pulumi_nodejs: Node.js and the dependencies of every Node.js program of the tests
# and examples, and of the SDK build (tests/env/gen-sdk).
provision_pulumi_nodejs() {
  local lock
  provision_nodejs
  for lock in "$TESTENV_DIR"/../programs/*/package-lock.json "$TESTENV_DIR"/sdk-build/package-lock.json \
    "$TESTENV_DIR"/../../sdk-examples/typescript/*/package-lock.json; do
    [[ -e "$lock" ]] || continue
    provision_node_modules "$(dirname "$lock")"
  done
}
