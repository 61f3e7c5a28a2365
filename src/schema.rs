//! The Pulumi package schema: what the engine, the YAML language host and SDK generators know
//! about our resources and configuration. `schema/schema.json` is this, committed;
//! `make schema` regenerates it and a test fails when it is stale.

use serde_json::{Value, json};

use crate::resources;

const OBJECT_META: &str = "aiservice:meta/v1:ObjectMeta";

/// The schema as pretty JSON, exactly as committed in `schema/schema.json`.
pub fn schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

fn schema() -> Value {
    let config = config_properties();
    let resources: serde_json::Map<String, Value> = resources::all()
        .iter()
        .map(|r| (r.token().to_string(), resource_schema(r.token())))
        .collect();
    json!({
        "name": "aiservice",
        "displayName": "AI Service",
        "version": crate::VERSION,
        "description": "Kubernetes CRDs, any custom resource and AI model services, planned in one go.",
        "license": "Apache-2.0",
        "keywords": ["kubernetes", "crd", "ai", "category/cloud"],
        "meta": {"moduleFormat": "(.*)"},
        "config": {"variables": config},
        "provider": {"description": "Which cluster to manage and how.", "inputProperties": config},
        "types": {OBJECT_META: object_meta()},
        "resources": resources,
    })
}

fn config_properties() -> Value {
    json!({
        "kubeconfig": {"type": "string", "secret": true, "description": "A kubeconfig file's path or its contents. Unset: $KUBECONFIG or ~/.kube/config."},
        "context": {"type": "string", "description": "The kubeconfig context to use. Unset: its current context."},
        "namespace": {"type": "string", "description": "The namespace for namespaced objects that set none. Unset: the context's namespace, else `default`."},
        "fieldManager": {"type": "string", "description": "The server-side apply field manager. Default: `pulumi-aiservice`."},
        "skipAwait": {"type": "boolean", "description": "Do not wait for objects to become ready."},
    })
}

fn object_meta() -> Value {
    let string_map = json!({"type": "object", "additionalProperties": {"type": "string"}});
    json!({
        "type": "object",
        "description": "Standard object metadata. Unset `name`: a name is generated from the resource name.",
        "properties": {
            "name": {"type": "string"},
            "namespace": {"type": "string"},
            "labels": string_map,
            "annotations": string_map,
            "finalizers": {"type": "array", "items": {"type": "string"}},
            "uid": {"type": "string"},
            "resourceVersion": {"type": "string"},
            "generation": {"type": "integer"},
            "creationTimestamp": {"type": "string"},
        },
    })
}

fn resource_schema(token: &str) -> Value {
    let meta = json!({"$ref": format!("#/types/{OBJECT_META}")});
    let any = json!({"$ref": "pulumi.json#/Any"});
    let string = json!({"type": "string"});
    let outputs =
        json!({"apiVersion": string, "kind": string, "metadata": meta, "spec": any, "status": any});
    let (description, inputs, required_inputs) = match token {
        "aiservice:apiextensions/v1:CustomResourceDefinition" => (
            "Any CustomResourceDefinition (apiextensions.k8s.io/v1). Waits until it is Established; deletion waits until it is gone.",
            json!({"metadata": meta, "spec": any}),
            json!(["spec"]),
        ),
        "aiservice:apiextensions:CustomResource" => (
            "Any custom resource, validated against its CRD: the live one or the one planned in the same deployment.",
            json!({"apiVersion": string, "kind": string, "metadata": meta, "spec": any}),
            json!(["apiVersion", "kind"]),
        ),
        "aiservice:index:AIService" => (
            "An AI model served by the aiservice operator (stable.example.com/v1 AIService), scaled manually or on requests per second. The spec is checked against the AIService CRD, CEL rules included, before anything reaches the cluster; `status` is the operator's.",
            json!({"metadata": meta, "spec": any}),
            json!(["spec"]),
        ),
        _ => (
            "A model serving instance (ai.example.com/v1 ModelServing), the seed 002 shape. The spec is checked against the ModelServing CRD before anything reaches the cluster; `status` is the operator's.",
            json!({"metadata": meta, "spec": any}),
            json!(["spec"]),
        ),
    };
    json!({
        "description": description,
        "inputProperties": inputs,
        "requiredInputs": required_inputs,
        "properties": outputs,
        "required": ["apiVersion", "kind", "metadata"],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_is_current() {
        assert!(
            super::schema_json() == include_str!("../schema/schema.json"),
            "schema/schema.json is stale: run `make schema` and commit it"
        );
    }
}
