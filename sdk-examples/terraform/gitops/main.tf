# One configuration, two ways to deliver it. With `render_to` set (`-var render_to=rendered`)
# the provider writes each object's manifest to a file under that directory and contacts no
# cluster: commit the files and let a GitOps tool (Argo CD, Flux) apply them. CRDs go to
# rendered/0-crd/, everything else to rendered/1-manifest/, one stable file name per object;
# `terraform destroy` removes the files. With `render_to` unset, the same configuration applies
# to the kubeconfig's cluster, and its plan works even where no cluster can be reached.
terraform {
  required_providers {
    aiservice = {
      source = "example/aiservice"
    }
  }
}

variable "render_to" {
  type    = string
  default = null
}

variable "replicas" {
  type    = number
  default = 2
}

provider "aiservice" {
  render_yaml_to_directory = var.render_to
  namespace                = "models"
}

resource "aiservice_custom_resource" "models_namespace" {
  manifest = {
    apiVersion = "v1"
    kind       = "Namespace"
    metadata   = { name = "models" }
  }
}

resource "aiservice_custom_resource_definition" "model_serving" {
  manifest = {
    metadata = { name = "modelservings.ai.example.com" }
    spec = {
      group = "ai.example.com"
      versions = [{
        name    = "v1"
        served  = true
        storage = true
        schema = {
          openAPIV3Schema = {
            type = "object"
            properties = {
              spec = {
                type = "object"
                properties = {
                  image    = { type = "string" }
                  replicas = { type = "integer" }
                }
              }
            }
          }
        }
      }]
      scope = "Namespaced"
      names = {
        plural   = "modelservings"
        singular = "modelserving"
        kind     = "ModelServing"
      }
    }
  }
}

resource "aiservice_custom_resource" "model_serving" {
  manifest = {
    apiVersion = "ai.example.com/v1"
    kind       = "ModelServing"
    metadata   = { name = "example-model-serving" }
    spec = {
      image    = "example-model-image:v1"
      replicas = var.replicas
    }
  }
  depends_on = [
    aiservice_custom_resource_definition.model_serving,
    aiservice_custom_resource.models_namespace,
  ]
}

resource "aiservice_ai_service" "llama" {
  metadata = { name = "llama" }
  spec = {
    modelUri = "s3://models/llama-3-8b"
    replicas  = var.replicas
    scaling   = { mode = "Manual" }
  }
  depends_on = [aiservice_custom_resource.models_namespace]
}
