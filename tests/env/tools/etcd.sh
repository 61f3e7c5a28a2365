# etcd from the go.etcd.io/etcd/server/v3 module. The etcd binary's own main lives in a
# module with local replaces, so a two-line wrapper main calls the server's etcdmain.

build_etcd() {
  local out="$1" work="$1/.work"
  mkdir -p "$work"
  (
    cd "$work"
    go mod init aiservice-testenv/etcd >/dev/null 2>&1
    cat >main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    log "etcd: resolving modules"
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" 2>&1 | tail -n 2 >&2
    go mod tidy 2>&1 | tail -n 2 >&2
    log "etcd: compiling"
    CGO_ENABLED=0 go build -v -trimpath -ldflags "-s -w" -o "$out/etcd" . 2>&1 | go_progress
    [[ ${PIPESTATUS[0]} -eq 0 ]]
  )
  rm -rf "$work"
}

provision_etcd() {
  provision etcd "$ETCD_VERSION" build_etcd etcd
}
