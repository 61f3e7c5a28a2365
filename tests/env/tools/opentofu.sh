# The OpenTofu CLI tofu from github.com/opentofu/opentofu (cmd/tofu). Its go.mod has a
# replace (hcl/v2 => opentofu's fork), so `go install ...@version` refuses; a wrapper module
# requires the pinned version and copies that go.mod's replace and godebug directives, which
# only the main module's go.mod applies. version.dev=no drops the "-dev" suffix, as releases do.

build_opentofu() {
  local out="$1" work="$1/.work" gomod
  mkdir -p "$work"
  gomod="$(go_module_field GoMod "github.com/opentofu/opentofu@$OPENTOFU_VERSION")"
  (
    cd "$work"
    go mod init aiservice-testenv/opentofu >/dev/null 2>&1
    {
      echo "require github.com/opentofu/opentofu $OPENTOFU_VERSION"
      # Single-line directives, and ( ... ) blocks.
      awk '/^(replace|godebug) \($/ { blk = 1 } blk { print; if ($0 == ")") blk = 0; next }
           /^(replace|godebug) / { print }' "$gomod"
    } >>go.mod
    log "opentofu: resolving modules and compiling tofu"
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -v -trimpath \
      -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
      -o "$out/tofu" github.com/opentofu/opentofu/cmd/tofu 2>&1 | go_progress
    [[ ${PIPESTATUS[0]} -eq 0 ]]
  )
  rm -rf "$work"
}

provision_opentofu() {
  provision opentofu "$OPENTOFU_VERSION" build_opentofu tofu
}
