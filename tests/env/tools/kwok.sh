# kwok (fake nodes and pod status) from sigs.k8s.io/kwok; its go.mod has no local replaces,
# so a plain `go install` of a pinned version works.

build_kwok() {
  local out="$1"
  log "kwok: compiling"
  GOBIN="$out" CGO_ENABLED=0 go install -v -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" 2>&1 | go_progress
  [[ ${PIPESTATUS[0]} -eq 0 ]]
}

provision_kwok() {
  provision kwok "$KWOK_VERSION" build_kwok kwok
}
