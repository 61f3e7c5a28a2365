# Seed 000's "Step 3: deploy the operator", with Terraform or OpenTofu: the aiservice operator
# installed as one resource (its CRDs, namespace, RBAC and Deployment, awaited until it is
# available), then an AIService it runs. The plan on an empty cluster already checks the
# AIService against the CRD the operator brings.
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

variable "operator_replicas" {
  type    = number
  default = 1
}

resource "aiservice_operator" "operator" {
  # Unset settings take their defaults (image, log_level), shown in the plan.
  namespace = "aiservice-operator"
  replicas  = var.operator_replicas
}

resource "aiservice_ai_service" "llama" {
  metadata = {
    name = "llama"
  }
  spec = {
    modelUri = "s3://models/llama-3-8b"
    replicas = 2
  }
  # The AIService CRD comes with the operator.
  depends_on = [aiservice_operator.operator]
}

output "installed" {
  value = aiservice_operator.operator.objects
}
