# Prometheus from Debian's package, unpacked into the cache rather than installed system-wide
# (no service is started, nothing outside the cache is touched).

build_prometheus() {
  local out="$1" dl="$1/.download"
  mkdir -p "$dl"
  if ! apt-cache show "prometheus=$PROMETHEUS_VERSION" >/dev/null 2>&1; then
    log "prometheus: refreshing Debian's package lists"
    apt-get update -qq >&2
  fi
  log "prometheus: downloading prometheus=$PROMETHEUS_VERSION"
  (cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root "prometheus=$PROMETHEUS_VERSION" >&2)
  dpkg-deb -x "$dl"/prometheus_*.deb "$dl/root"
  cp "$dl/root/usr/bin/prometheus" "$out/prometheus"
  rm -rf "$dl"
}

provision_prometheus() {
  provision prometheus "$PROMETHEUS_VERSION" build_prometheus prometheus
}
