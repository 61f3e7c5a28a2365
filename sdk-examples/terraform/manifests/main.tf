# Manifests from a file of many objects (CRDs and the objects that use them, mixed, as in an
# operator's release YAML): each object becomes its own resource, so the plan shows every one
# as its own change and validates each custom resource against the CRD planned beside it.
# CRDs and namespaces are applied first: every other object depends on them.
terraform {
  required_providers {
    aiservice = {
      source = "example/aiservice"
    }
  }
}

variable "render_to" {
  description = "Render mode: write the manifests under this directory instead of applying them."
  type        = string
  default     = null
}

provider "aiservice" {
  render_yaml_to_directory = var.render_to
}

locals {
  # yamldecode takes one document: split the file at its `---` lines first.
  documents = [
    for text in split("\n---\n", file("${path.module}/models.yaml")) :
    yamldecode(text) if trimspace(replace(text, "/(?m)^#.*$/", "")) != ""
  ]
  # The objects differ in shape, so resources are keyed by name and look their object up by
  # index (a map's values must share one type).
  crds = {
    for i, d in local.documents : d.metadata.name => i
    if d.kind == "CustomResourceDefinition"
  }
  namespaces = {
    for i, d in local.documents : d.metadata.name => i
    if d.apiVersion == "v1" && d.kind == "Namespace"
  }
  objects = {
    for i, d in local.documents :
    join("/", compact([d.apiVersion, d.kind, try(d.metadata.namespace, ""), d.metadata.name])) => i
    if d.kind != "CustomResourceDefinition" && d.kind != "Namespace"
  }
}

resource "aiservice_custom_resource_definition" "crd" {
  for_each = local.crds
  manifest = local.documents[each.value]
}

resource "aiservice_custom_resource" "namespace" {
  for_each = local.namespaces
  manifest = local.documents[each.value]
}

resource "aiservice_custom_resource" "object" {
  for_each = local.objects
  manifest = local.documents[each.value]
  depends_on = [
    aiservice_custom_resource_definition.crd,
    aiservice_custom_resource.namespace,
  ]
}
