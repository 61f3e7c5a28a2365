// Seed 000, "Scaling AI Services Dynamically with Kubernetes Operators", in TypeScript on
// aiservice: the seed's CRD for an AI service (the seed's Python passes JSONSchemaPropsArgs
// where a CustomResourceValidation belongs; here `schema` holds `openAPIV3Schema`, as the
// apiserver expects), then one typed AIService instance of it.
import * as k8s from "@aiservice/pulumi";

// We define a CustomResourceDefinition (CRD) for our AI service.
const aiServiceCrd = new k8s.apiextensions.v1.CustomResourceDefinition("aiServiceCrd", {
    metadata: { name: "aiservices.stable.example.com" },
    spec: {
        group: "stable.example.com",
        versions: [{
            name: "v1",
            served: true,
            storage: true,
            schema: {
                openAPIV3Schema: {
                    type: "object",
                    properties: {
                        apiVersion: { type: "string" },
                        kind: { type: "string" },
                        metadata: { type: "object" },
                        // Custom specifications for our AI service: the model URI, the replicas.
                        spec: {
                            type: "object",
                            properties: {
                                modelUri: { type: "string" },
                                replicas: { type: "integer" },
                            },
                            required: ["modelUri"],
                        },
                    },
                },
            },
        }],
        scope: "Namespaced",
        names: {
            plural: "aiservices",
            singular: "aiservice",
            kind: "AIService",
            shortNames: ["aisvc"],
        },
    },
});

// One AI service of that kind, typed: the provider checks its spec before anything is sent.
const aiService = new k8s.AIService("aiService", {
    metadata: { name: "llama" },
    spec: {
        modelUri: "s3://models/llama-3-8b",
        replicas: 2,
    },
}, { dependsOn: [aiServiceCrd] });

// Export the name of the CRD.
export const ai_service_crd_name = aiServiceCrd.metadata.name;
