# The Helm CLI from helm.sh/helm/v3 (cmd/helm), for the operator's chart (packaging/chart,
# tests/dist/helm.rs). Its go.mod has no replace directives, so a plain `go install` of the
# pinned version builds it exactly as its own module would. The version variable is set as
# helm's Makefile does for a release: without it `helm version` says only the minor version.

build_helm() {
  local out="$1"
  log "helm: compiling"
  GOBIN="$out" CGO_ENABLED=0 go install -v -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" 2>&1 | go_progress
  [[ ${PIPESTATUS[0]} -eq 0 ]]
}

provision_helm() {
  provision helm "$HELM_VERSION" build_helm helm
}
