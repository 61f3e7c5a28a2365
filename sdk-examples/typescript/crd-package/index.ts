// An inference endpoint, the runtime it runs on and its scaler: custom resources of the
// mlplat CRDs, typed by the SDK `pulumi package add` generated. A misspelled field is a
// compile error.
import * as pulumi from "@pulumi/pulumi";
import * as mlplat from "@aiservice/mlplat";

const config = new pulumi.Config();

// Cluster-scoped: no namespace, an auto-generated name.
const vllm = new mlplat.serving.v1.ModelRuntime("vllm", {
    spec: { image: "vllm/vllm-openai:v0.6", supportedFormats: ["safetensors"] },
});

const chat = new mlplat.serving.v1.InferenceEndpoint("chat-endpoint", {
    metadata: { name: "chat", labels: { team: "ml" } },
    spec: {
        model: "llama-3-8b",
        runtime: vllm.metadata.name,
        minReplicas: 1,
        maxReplicas: config.requireNumber("maxReplicas"),
        port: "http",
        env: { LOG_LEVEL: "info" },
        resources: { cpu: "500m", gpus: 1 },
        storage: { uri: "s3://models/llama-3-8b" },
        routing: { rules: [{ path: "/v1", weight: 100 }] },
        serverConfig: { maxBatch: 8, kvCache: { dtype: "fp8" } },
    },
});

new mlplat.autoscaling.v1alpha1.ModelScaler("chat-scaler", {
    metadata: { name: "chat" },
    spec: {
        targetRef: { name: pulumi.interpolate`${chat.metadata.name}` },
        triggers: [{ type: "rps", metadata: { target: "20" } }],
        selector: { "app.kubernetes.io/name": "chat" },
    },
});

export const endpoint = chat.metadata.name;
export const runtime = vllm.metadata.name;
export const maxReplicas = chat.spec.maxReplicas;
