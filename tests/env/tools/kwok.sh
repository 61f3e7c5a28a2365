# kwok (fake nodes and pod status) from sigs.k8s.io/kwok; its go.mod has no local replaces,
# so a plain `go install` of a pinned version works. kwok only acts through "stages"; we ship
# the release's own "fast" set (node initialise + heartbeat with lease, pod ready / complete
# / delete) from the module source as kwok-stages.yaml.

build_kwok() {
  local out="$1" src stage
  log "kwok: compiling"
  GOBIN="$out" CGO_ENABLED=0 go install -v -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" 2>&1 | go_progress
  [[ ${PIPESTATUS[0]} -eq 0 ]]
  src="$(go_module_field Dir "sigs.k8s.io/kwok@$KWOK_VERSION")"
  for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    echo "---"
    cat "$src/kustomize/stage/$stage.yaml"
  done >"$out/kwok-stages.yaml"
}

provision_kwok() {
  provision kwok "$KWOK_VERSION" build_kwok kwok kwok-stages.yaml
}
