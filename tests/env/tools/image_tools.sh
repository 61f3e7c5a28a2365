# What builds, checks and ships the operator's OCI image without a container daemon, all from
# Debian's packages, unpacked into the cache rather than installed system-wide:
#
#   image-tools-<key>/umoci            builds the OCI image layout (packaging/image)
#   image-tools-<key>/skopeo           a wrapper: runs skopeo.bin with the shared libraries a
#                                      base system lacks (lib/: gpgme and what it needs,
#                                      device-mapper) and with policy.json (accept anything;
#                                      Debian keeps that file in another package)
#   image-tools-<key>/docker-registry  the distribution registry server, for a loopback registry
#
#   image-base-<key>/rootfs            the image's base root filesystem: glibc, libgcc and the CA
#                                      certificates (what distroless cc has), plus /etc/passwd and
#                                      /etc/group with the nonroot user (65532), /tmp and /home/nonroot
#
# The key of each is a hash of its pinned package versions and of the function that builds it
# (a hash because an epoch's ':' cannot be in a PATH), so changing either rebuilds it.

IMAGE_TOOLS_PACKAGES=(
  "umoci=$UMOCI_VERSION"
  "skopeo=$SKOPEO_VERSION"
  "docker-registry=$DOCKER_REGISTRY_VERSION"
  "libgpgme11=$LIBGPGME11_VERSION"
  "libassuan0=$LIBASSUAN0_VERSION"
  "libgpg-error0=$LIBGPG_ERROR0_VERSION"
  "libdevmapper1.02.1=$LIBDEVMAPPER_VERSION"
)
IMAGE_BASE_PACKAGES=(
  "libc6=$IMAGE_LIBC6_VERSION"
  "libgcc-s1=$IMAGE_LIBGCC_S1_VERSION"
  "ca-certificates=$IMAGE_CA_CERTIFICATES_VERSION"
)

# recipe_key BUILD_FN NAME=VERSION...: a short, PATH-safe key for a recipe and its packages.
recipe_key() {
  { declare -f "$1"; shift; printf '%s\n' "$@"; } | sha256sum | cut -c1-12
}
image_tools_key() { echo "skopeo-${SKOPEO_VERSION%%+*}-$(recipe_key build_image_tools "${IMAGE_TOOLS_PACKAGES[@]}")"; }
image_base_key() { echo "bookworm-$(recipe_key build_image_base "${IMAGE_BASE_PACKAGES[@]}")"; }
image_tools_dir() { tool_dir image-tools "$(image_tools_key)"; }
image_base_dir() { tool_dir image-base "$(image_base_key)"; }

# debian_download DIR PACKAGE=VERSION...: downloads the pinned .debs into DIR (no dependencies).
debian_download() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  if ! apt-cache show "$@" >/dev/null 2>&1; then
    log "image: refreshing Debian's package lists"
    apt-get update -qq >&2
  fi
  log "image: downloading $*"
  if ! (cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root "$@" >&2); then
    log "image: a pinned package is not in Debian's archive any more (a point release replaces"
    log "image: it): put the version 'apt-cache policy <package>' shows into tests/env/versions.env"
    return 1
  fi
}

build_image_tools() {
  local out="$1" dl="$1/.download" deb
  debian_download "$dl" "${IMAGE_TOOLS_PACKAGES[@]}"
  for deb in "$dl"/*.deb; do
    dpkg-deb -x "$deb" "$dl/root"
  done
  cp "$dl/root/usr/bin/umoci" "$out/umoci"
  cp "$dl/root/usr/bin/docker-registry" "$out/docker-registry"
  cp "$dl/root/usr/bin/skopeo" "$out/skopeo.bin"
  mkdir -p "$out/lib"
  find "$dl/root" \( -type f -o -type l \) -name 'lib*.so.*' -exec cp -a {} "$out/lib/" \;
  cat >"$out/policy.json" <<'EOF'
{"default": [{"type": "insecureAcceptAnything"}]}
EOF
  cat >"$out/skopeo" <<'EOF'
#!/bin/sh
# skopeo from Debian's package with the shared libraries beside it (tests/env/tools/image_tools.sh).
dir="$(dirname "$(readlink -f "$0")")"
LD_LIBRARY_PATH="$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$dir/skopeo.bin" --policy "$dir/policy.json" "$@"
EOF
  chmod 0755 "$out/skopeo"
  rm -rf "$dl"
  "$out/umoci" --version >&2
  "$out/skopeo" --version >&2
  "$out/docker-registry" --version >&2
}

provision_image_tools() {
  provision image-tools "$(image_tools_key)" build_image_tools umoci skopeo skopeo.bin docker-registry policy.json
}

# The base root filesystem. Files keep the .debs' modes and owners (root); the copyright files
# stay (they are the licences); the rest of /usr/share/doc, man pages, maintainer scripts and
# glibc's iconv modules go. /etc/ssl/certs/ca-certificates.crt is made the way
# update-ca-certificates makes it (every Mozilla certificate, in order): the package's postinst
# would do it, but nothing runs here.
build_image_base() {
  local out="$1" dl="$1/.download" deb root="$1/rootfs"
  debian_download "$dl" "${IMAGE_BASE_PACKAGES[@]}"
  mkdir -p "$root"
  for deb in "$dl"/*.deb; do
    dpkg-deb -x "$deb" "$root"
  done
  find "$root/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root/usr/share/man" "$root/usr/share/lintian" "$root/usr/sbin" "$root/etc/ca-certificates"
  # glibc's iconv modules (8 of its 14 MB): Rust programs never call iconv.
  rm -rf "$root/usr/lib/"*/gconv
  mkdir -p "$root/etc/ssl/certs"
  (cd "$root/usr/share/ca-certificates" && LC_ALL=C find mozilla -name '*.crt' | LC_ALL=C sort |
    while read -r crt; do sed -e '$a\' "$crt"; done) >"$root/etc/ssl/certs/ca-certificates.crt"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$root/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
  mkdir -p "$root/tmp" "$root/root" "$root/home/nonroot" "$root/usr/local/bin"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root" "$root/home/nonroot"
  # Only root can give the home directory to nonroot; an unprivileged build (umoci --rootless)
  # leaves it root's, which the operator does not mind (it writes nothing there).
  if [[ $EUID -eq 0 ]]; then chown 65532:65532 "$root/home/nonroot"; fi
  chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf" "$root/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$dl"
  printf '%s\n' "${IMAGE_BASE_PACKAGES[@]}" >"$out/packages"
}

provision_image_base() {
  provision image-base "$(image_base_key)" build_image_base packages rootfs/etc/passwd \
    rootfs/etc/ssl/certs/ca-certificates.crt
}
