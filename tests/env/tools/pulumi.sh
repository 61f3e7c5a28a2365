# The pulumi CLI from github.com/pulumi/pulumi/pkg/v3 (cmd/pulumi), with its version stamped.
# pkg/v3 points the SDK module at a local path, so a wrapper module requires both at the
# same version and carries pkg/v3's other replace lines over.

build_pulumi() {
  local out="$1" work="$1/.work"
  mkdir -p "$work"
  (
    cd "$work"
    go mod init aiservice-testenv/pulumi >/dev/null 2>&1
    local gomod
    gomod="$(go_module_field GoMod "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION")"
    {
      echo "require github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION"
      echo "require github.com/pulumi/pulumi/sdk/v3 $PULUMI_VERSION"
      grep -E '^replace .* => [^.]' "$gomod" || true
    } >>go.mod
    log "pulumi: resolving modules"
    go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" 2>&1 | tail -n 2 >&2
    log "pulumi: compiling the CLI"
    CGO_ENABLED=0 go build -v -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi 2>&1 | go_progress
    [[ ${PIPESTATUS[0]} -eq 0 ]]
  )
  rm -rf "$work"
}

provision_pulumi() {
  provision pulumi "$PULUMI_VERSION" build_pulumi pulumi
}
