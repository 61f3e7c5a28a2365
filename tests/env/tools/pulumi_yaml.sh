# The YAML language host pulumi-language-yaml from github.com/pulumi/pulumi-yaml
# (cmd/pulumi-language-yaml), with its version stamped. The module proxy here refuses the
# module's version list, so `go install ...@version` fails; a wrapper module that requires the
# exact version resolves it without asking for the list.

build_pulumi_yaml() {
  local out="$1" work="$1/.work"
  mkdir -p "$work"
  (
    cd "$work"
    go mod init aiservice-testenv/pulumi-yaml >/dev/null 2>&1
    echo "require github.com/pulumi/pulumi-yaml $PULUMI_YAML_VERSION" >>go.mod
    log "pulumi-yaml: resolving modules and compiling the language host"
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -v -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$PULUMI_YAML_VERSION" \
      -o "$out/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml 2>&1 | go_progress
    [[ ${PIPESTATUS[0]} -eq 0 ]]
  )
  rm -rf "$work"
}

provision_pulumi_yaml() {
  provision pulumi-yaml "$PULUMI_YAML_VERSION" build_pulumi_yaml pulumi-language-yaml
}
