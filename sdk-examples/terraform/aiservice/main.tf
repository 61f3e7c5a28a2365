# A typed AIService scaled on requests per second. aiservice-operator runs it as a Deployment
# and a Service and reports its status; the plan validates the spec against the AIService CRD
# schema (and its rules) before anything reaches the cluster. Install the CRD first, with
# `kubectl apply --server-side -f schema/crds/aiservices.stable.example.com.yaml` or the
# operator bundle (`aiservice-operator bundle`).
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

variable "max_replicas" {
  type    = number
  default = 5
}

resource "aiservice_ai_service" "llama" {
  metadata = {
    name   = "llama"
    labels = { team = "ml-platform" }
  }
  spec = {
    modelUri = "s3://models/llama-3-8b"
    image    = "ghcr.io/example/model-server:1"
    resources = {
      cpu    = "2"
      memory = "8Gi"
    }
    scaling = {
      mode        = "Auto"
      minReplicas = 1
      maxReplicas = var.max_replicas
      targetRequestsPerSecond = 10
      metric = {
        prometheus = {
          address = "http://prometheus.monitoring:9090"
          query   = "sum(rate(http_requests_total{service=\"$NAME\",namespace=\"$NAMESPACE\"}[1m]))"
        }
      }
    }
  }
}

# What the operator reports; refreshed on every plan, never a reason for a change.
data "aiservice_ai_service" "llama" {
  name       = aiservice_ai_service.llama.metadata.name
  namespace  = var.namespace
  depends_on = [aiservice_ai_service.llama]
}

output "url" {
  value = try(data.aiservice_ai_service.llama.status.url, null)
}
