# cargo-fuzz from crates.io, used only by `make fuzz` (not in ALL_TOOLS, so `make test` does
# not build it). The fuzz targets themselves need the nightly toolchain.

build_cargo_fuzz() {
  local out="$1"
  log "cargo-fuzz: compiling"
  cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" --root "$out/.root" >&2
  mv "$out/.root/bin/cargo-fuzz" "$out/cargo-fuzz"
  rm -rf "$out/.root"
}

provision_cargo_fuzz() {
  provision cargo-fuzz "$CARGO_FUZZ_VERSION" build_cargo_fuzz cargo-fuzz
}
