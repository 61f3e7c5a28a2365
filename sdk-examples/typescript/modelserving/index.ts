// Seed 002, "Scalable Model Serving with Custom CRDs", in TypeScript on aiservice: a CRD for
// model serving, then one instance of it created after the CRD (dependsOn).
import * as k8s from "@aiservice/pulumi";

// Define the CustomResourceDefinition for model serving.
const modelServingCrd = new k8s.apiextensions.v1.CustomResourceDefinition("model-serving-crd", {
    metadata: { name: "modelservings.ai.example.com" },
    spec: {
        group: "ai.example.com",
        versions: [{
            name: "v1",
            served: true,
            storage: true,
            schema: {
                openAPIV3Schema: {
                    type: "object",
                    properties: {
                        spec: {
                            type: "object",
                            properties: {
                                image: { type: "string" },
                                replicas: { type: "integer" },
                            },
                        },
                    },
                },
            },
        }],
        scope: "Namespaced",
        names: {
            plural: "modelservings",
            singular: "modelserving",
            kind: "ModelServing",
            shortNames: ["ms"],
        },
    },
});

// Create an instance of the custom ModelServing resource.
const modelServingInstance = new k8s.apiextensions.CustomResource("model-serving-instance", {
    apiVersion: "ai.example.com/v1",
    kind: "ModelServing",
    metadata: { name: "example-model-serving" },
    spec: {
        image: "example-model-image:v1",
        replicas: 3,
    },
}, { dependsOn: [modelServingCrd] });

// Export the name of the model serving instance.
export const model_serving_name = modelServingInstance.metadata.name;
