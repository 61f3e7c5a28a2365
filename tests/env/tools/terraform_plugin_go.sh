# The protocol definition Terraform's providers are built on: tfplugin6.proto from the Go
# module github.com/hashicorp/terraform-plugin-go. tests/proto_compat.rs compares our own
# proto/terraform/tfplugin6.proto with it field by field. Only the one file is kept.

build_terraform_plugin_go() {
  local out="$1" src
  log "terraform-plugin-go: downloading the module"
  src="$(go_module_field Dir "github.com/hashicorp/terraform-plugin-go@$TERRAFORM_PLUGIN_GO_VERSION")"
  cp "$src/tfprotov6/internal/tfplugin6/tfplugin6.proto" "$out/tfplugin6.proto"
}

provision_terraform_plugin_go() {
  provision terraform-plugin-go "$TERRAFORM_PLUGIN_GO_VERSION" build_terraform_plugin_go tfplugin6.proto
}
