"""An inference endpoint, the runtime it runs on and its scaler: custom resources of the
mlplat CRDs, typed by the SDK `pulumi package add` generated (module per group and version,
an Args class per object of the CRDs' schemas)."""

import pulumi
import pulumi_mlplat as mlplat
from pulumi_mlplat import serving

config = pulumi.Config()

# Cluster-scoped: no namespace, an auto-generated name.
runtime = serving.v1.ModelRuntime(
    "vllm",
    spec=serving.v1.ModelRuntimeSpecArgs(image="vllm/vllm-openai:v0.6", supported_formats=["safetensors"]),
)

spec = serving.v1.InferenceEndpointSpecArgs(
    model="llama-3-8b",
    runtime=runtime.metadata.name,
    min_replicas=1,
    max_replicas=config.require_int("maxReplicas"),
    port="http",
    env={"LOG_LEVEL": "info"},
    resources={"cpu": "500m", "gpus": 1},
    storage=serving.v1.InferenceEndpointSpecStorageArgs(uri="s3://models/llama-3-8b"),
    routing=serving.v1.InferenceEndpointSpecRoutingArgs(
        rules=[serving.v1.InferenceEndpointSpecRoutingRulesItemArgs(path="/v1", weight=100)],
    ),
    server_config={"maxBatch": 8, "kvCache": {"dtype": "fp8"}},
)
if config.require("variant") == "typo":
    spec = {"model": "llama-3-8b", "maxReplcas": 4}

endpoint = serving.v1.InferenceEndpoint(
    "chat-endpoint",
    metadata=mlplat.meta.v1.ObjectMetaArgs(name="chat", labels={"team": "ml"}),
    spec=spec,
)

scaler = mlplat.autoscaling.v1alpha1.ModelScaler(
    "chat-scaler",
    metadata={"name": "chat"},
    spec={
        "targetRef": {"name": endpoint.metadata.name},
        "triggers": [{"type": "rps", "metadata": {"target": "20"}}],
        "selector": {"app.kubernetes.io/name": "chat"},
    },
)

pulumi.export("endpoint", endpoint.metadata.name)
pulumi.export("runtime", runtime.metadata.name)
pulumi.export("maxReplicas", endpoint.spec.max_replicas)
