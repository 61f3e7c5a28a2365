# kube-apiserver, kube-controller-manager and kube-scheduler (kwok fakes kubelets, but pods
# still need a scheduler to bind them to its node) from the k8s.io/kubernetes Go module.
# k8s.io/kubernetes replaces every k8s.io/* staging module with a local path, so it cannot be
# `go install`ed; a wrapper module requires it and points each staging module at its
# published v0.x version. The replace list is derived from the release's own go.mod, so a
# version bump in versions.env needs no edit here.

build_kubernetes() {
  local out="$1" work="$1/.work"
  mkdir -p "$work"
  (
    cd "$work"
    go mod init aiservice-testenv/kubernetes >/dev/null 2>&1
    local gomod
    gomod="$(go_module_field GoMod "k8s.io/kubernetes@$KUBERNETES_VERSION")"
    {
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      echo "replace ("
      sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$KUBERNETES_STAGING_VERSION"'#p' "$gomod"
      echo ")"
    } >>go.mod
    log "kubernetes: resolving modules"
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBERNETES_VERSION" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBERNETES_VERSION" \
      "k8s.io/kubernetes/cmd/kube-scheduler@$KUBERNETES_VERSION" 2>&1 | tail -n 3 >&2
    local minor="${KUBERNETES_VERSION#v1.}"
    minor="${minor%%.*}"
    local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
    ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
    ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
    log "kubernetes: compiling kube-apiserver, kube-controller-manager and kube-scheduler"
    CGO_ENABLED=0 go build -v -trimpath -ldflags "$ldflags" -o "$out/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler 2>&1 | go_progress
    [[ ${PIPESTATUS[0]} -eq 0 ]]
  )
  rm -rf "$work"
}

provision_kubernetes() {
  provision kubernetes "$KUBERNETES_VERSION" build_kubernetes \
    kube-apiserver kube-controller-manager kube-scheduler
}
