# pulumi-kubernetes' provider (pulumi-resource-kubernetes), the baseline `make bench` compares
# against; not in ALL_TOOLS, so `make test` never builds it. Its main embeds
# schema-embed.json, which its own `go generate` writes from the committed schema.json and the
# module does not ship; its go.mod points the SDK module at a sibling path, which a module from
# the proxy lacks. So the module's source is copied into a work tree that becomes the main
# module, the replace line is dropped (the SDK version its go.mod requires comes from the
# proxy), the embed files are generated, and the provider is built with its version stamped.

build_pulumi_kubernetes() {
  local out="$1" work="$1/.work" src version="${PULUMI_KUBERNETES_VERSION#v}"
  src="$(go_module_field Dir "github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_VERSION")"
  cp -r "$src" "$work"
  chmod -R u+w "$work"
  (
    cd "$work"
    sed -i '/^replace github.com\/pulumi\/pulumi-kubernetes\/sdk\/v4 => /d' go.mod
    log "pulumi-kubernetes: generating the embedded schema"
    (cd cmd/pulumi-resource-kubernetes && VERSION="$version" GOFLAGS=-mod=mod go run generate.go)
    log "pulumi-kubernetes: compiling the provider"
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -v -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$version" \
      -o "$out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes 2>&1 | go_progress
    [[ ${PIPESTATUS[0]} -eq 0 ]]
  )
  rm -rf "$work"
}

provision_pulumi_kubernetes() {
  provision pulumi-kubernetes "$PULUMI_KUBERNETES_VERSION" build_pulumi_kubernetes pulumi-resource-kubernetes
}
