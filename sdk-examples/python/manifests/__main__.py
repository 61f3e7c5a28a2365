"""Manifests from files in Python: the objects of the YAML files in `manifests/` (a CRD, a
namespace and a custom resource of that CRD, as an operator's release YAML ships them) as one
ConfigGroup. The component is built by the provider (`aiservice.yaml.ConfigGroup`): each
object becomes a resource of its own, checked against the CRD of the same files, which is
created first."""

import pulumi
import pulumi_aiservice as aiservice

models = aiservice.yaml.ConfigGroup("models", files=["manifests"])

pulumi.export("objects", models.objects)
