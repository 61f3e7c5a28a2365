# `pulumi-language-codegen` (language-hosts/codegen): the GeneratePackage half of Pulumi's
# language plugins, with Pulumi's own code generators of the CLI's version, for
# `pulumi package gen-sdk` (tests/env/gen-sdk). Its bin/ also holds the names the CLI looks
# for (pulumi-language-python, -nodejs, -go) as links to it; put that directory first on PATH
# only for SDK generation, since programs run with the hosts in language-hosts/.
# Keyed by the CLI version and a hash of the plugin's source, so an edit rebuilds it.

codegen_source() { printf '%s/language-hosts/codegen' "$TESTENV_DIR"; }

codegen_version() {
  local hash
  hash="$(cat "$(codegen_source)"/{go.mod,go.sum,main.go} | sha256sum | cut -c1-12)"
  printf '%s-%s' "$PULUMI_VERSION" "$hash"
}

build_pulumi_codegen() {
  local out="$1" language
  log "pulumi-codegen: go build of $(codegen_source)"
  (cd "$(codegen_source)" && go build -trimpath -o "$out/bin/pulumi-language-codegen" .)
  for language in python nodejs go; do
    ln -s pulumi-language-codegen "$out/bin/pulumi-language-$language"
  done
}

provision_pulumi_codegen() {
  provision pulumi-codegen "$(codegen_version)" build_pulumi_codegen bin/pulumi-language-codegen
}
