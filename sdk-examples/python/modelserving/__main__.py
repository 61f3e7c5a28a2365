# Seed 002, "Scalable Model Serving with Custom CRDs", on aiservice: the seed's program with
# only the import changed (pulumi_kubernetes -> pulumi_aiservice, whose module layout is the
# same) and one fix it needs to run at all, marked FIX.
import pulumi
import pulumi_aiservice as k8s

# Define the CustomResourceDefinition for model serving
model_serving_crd = k8s.apiextensions.v1.CustomResourceDefinition(
    "model-serving-crd",
    metadata=k8s.meta.v1.ObjectMetaArgs(name="modelservings.ai.example.com"),
    spec=k8s.apiextensions.v1.CustomResourceDefinitionSpecArgs(
        group="ai.example.com",
        versions=[k8s.apiextensions.v1.CustomResourceDefinitionVersionArgs(
            name="v1",
            served=True,
            storage=True,
            schema=k8s.apiextensions.v1.CustomResourceValidationArgs(
                # FIX: the seed writes `openAPIV3Schema=`; Pulumi's Python SDKs (this one and
                # pulumi_kubernetes) take snake_case keywords. It is sent as openAPIV3Schema.
                open_apiv3_schema=k8s.apiextensions.v1.JSONSchemaPropsArgs(
                    type="object",
                    properties={
                        "spec": k8s.apiextensions.v1.JSONSchemaPropsArgs(
                            type="object",
                            properties={
                                "image": k8s.apiextensions.v1.JSONSchemaPropsArgs(type="string"),
                                "replicas": k8s.apiextensions.v1.JSONSchemaPropsArgs(type="integer"),
                            },
                        ),
                    },
                ),
            ),
        )],
        scope="Namespaced",
        names=k8s.apiextensions.v1.CustomResourceDefinitionNamesArgs(
            plural="modelservings",
            singular="modelserving",
            kind="ModelServing",
            short_names=["ms"]
        ),
    )
)

# Create an instance of the custom ModelServing resource
model_serving_instance = k8s.apiextensions.CustomResource(
    "model-serving-instance",
    api_version="ai.example.com/v1",
    kind="ModelServing",
    metadata=k8s.meta.v1.ObjectMetaArgs(name="example-model-serving"),
    spec={
        "image": "example-model-image:v1",
        "replicas": 3
    },
    opts=pulumi.ResourceOptions(depends_on=[model_serving_crd])
)

# Export the name of the model serving instance
pulumi.export("model_serving_name", model_serving_instance.metadata["name"])
