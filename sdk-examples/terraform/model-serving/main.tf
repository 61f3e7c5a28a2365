# Seed 002 as a Terraform configuration: a CRD for model serving and one ModelServing in the
# same plan. The plan validates the ModelServing against the CRD planned beside it, so this
# works on an empty cluster (the step where kubernetes_manifest fails).
terraform {
  required_providers {
    aiservice = {
      source = "example/aiservice"
    }
  }
}

variable "namespace" {
  type    = string
  default = null
}

provider "aiservice" {
  # Namespaced objects that name none go here; null means the kubeconfig context's.
  namespace = var.namespace
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
        plural     = "modelservings"
        singular   = "modelserving"
        kind       = "ModelServing"
        shortNames = ["ms"]
      }
    }
  }
}

variable "replicas" {
  type    = number
  default = 3
}

resource "aiservice_custom_resource" "model_serving_instance" {
  manifest = {
    apiVersion = "ai.example.com/v1"
    kind       = "ModelServing"
    metadata   = { name = "example-model-serving" }
    spec = {
      image    = "example-model-image:v1"
      replicas = var.replicas
    }
  }
  depends_on = [aiservice_custom_resource_definition.model_serving]
}

output "model_serving_name" {
  value = aiservice_custom_resource.model_serving_instance.manifest.metadata.name
}
