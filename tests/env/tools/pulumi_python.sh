# A Python virtualenv with the pulumi SDK of the same version as the CLI, parver, which
# generated Python SDKs import (pulumi already brings semver), and a setuptools that builds
# wheels (tests/env/gen-sdk builds the Python SDK's). It is used by Python programs and, through its generated gRPC stubs, by tests that check our protocol files.
# A venv survives being renamed into place: bin/python links to the system interpreter and
# site-packages is found relative to it (only pip's console-script shebangs would go stale,
# so we always call `python -m pip`).

build_pulumi_python() {
  local out="$1"
  log "pulumi-python: creating a virtualenv with pulumi==${PULUMI_VERSION#v}, parver and setuptools"
  python3 -m venv "$out/venv"
  "$out/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "pulumi==${PULUMI_VERSION#v}" "parver==$PARVER_VERSION" "setuptools==$SETUPTOOLS_VERSION" >&2
}

provision_pulumi_python() {
  provision pulumi-python "$PULUMI_PYTHON_KEY" build_pulumi_python venv/bin/python
}
