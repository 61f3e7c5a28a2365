# Seed 000, "Scaling AI Services Dynamically with Kubernetes Operators", on aiservice.
# The seed's program with only the import changed (pulumi_kubernetes -> pulumi_aiservice,
# whose module layout is the same) and two fixes the seed needs to run at all, marked FIX.
# After the CRD comes one typed AIService instance of it.
import pulumi
import pulumi_aiservice as k8s

# We define a CustomResourceDefinition (CRD) for our AI service.
# This will define what the custom resource for our AI service looks like.
ai_service_crd = k8s.apiextensions.v1.CustomResourceDefinition(
    "aiServiceCrd",
    metadata=k8s.meta.v1.ObjectMetaArgs(
        name="aiservices.stable.example.com"
    ),
    spec=k8s.apiextensions.v1.CustomResourceDefinitionSpecArgs(
        group="stable.example.com",
        versions=[k8s.apiextensions.v1.CustomResourceDefinitionVersionArgs(
            name="v1",
            served=True,
            storage=True,
            # FIX: the seed passes JSONSchemaPropsArgs here; a version's `schema` is a
            # CustomResourceValidation, which holds the openAPIV3Schema.
            schema=k8s.apiextensions.v1.CustomResourceValidationArgs(
                # FIX: the seed writes `openAPIV3Schema=`; Pulumi's Python SDKs (this one and
                # pulumi_kubernetes) take snake_case keywords. It is sent as openAPIV3Schema.
                open_apiv3_schema=k8s.apiextensions.v1.JSONSchemaPropsArgs(
                    type="object",
                    properties={
                        "apiVersion": k8s.apiextensions.v1.JSONSchemaPropsArgs(type="string"),
                        "kind": k8s.apiextensions.v1.JSONSchemaPropsArgs(type="string"),
                        "metadata": k8s.apiextensions.v1.JSONSchemaPropsArgs(type="object"),
                        # Here we define custom specifications for our AI service like the
                        # number of replicas, model URI etc.
                        "spec": k8s.apiextensions.v1.JSONSchemaPropsArgs(
                            type="object",
                            properties={
                                "modelUri": k8s.apiextensions.v1.JSONSchemaPropsArgs(type="string"),
                                "replicas": k8s.apiextensions.v1.JSONSchemaPropsArgs(type="integer"),
                            },
                            required=["modelUri"]
                        ),
                    }
                )
            ),
        )],
        scope="Namespaced",
        names=k8s.apiextensions.v1.CustomResourceDefinitionNamesArgs(
            plural="aiservices",
            singular="aiservice",
            kind="AIService",
            short_names=["aisvc"]
        )
    )
)

# One AI service of that kind, typed: the provider checks its spec before anything is sent.
# The operator (see the repository README) scales it; this CRD only knows modelUri and replicas.
ai_service = k8s.AIService(
    "aiService",
    metadata=k8s.meta.v1.ObjectMetaArgs(name="llama"),
    spec=k8s.AIServiceSpecArgs(
        model_uri="s3://models/llama-3-8b",
        replicas=2,
    ),
    opts=pulumi.ResourceOptions(depends_on=[ai_service_crd]),
)

# Export the name of the CRD
pulumi.export('ai_service_crd_name', ai_service_crd.metadata["name"])
