//! `aiservice:yaml:ConfigGroup`: the Kubernetes objects of YAML files, directories or text
//! (an operator's release YAML: CRDs and the objects that use them, mixed), each becoming a
//! resource of its own, so a preview shows every object as its own change and validates it
//! like a single one. A Pulumi component (its children are registered by the adapter's
//! Construct); Terraform configurations get the same with `yamldecode` into
//! `aiservice_custom_resource` (README).
//!
//! Here: what the component takes, and which children it has, in which order. CRDs come
//! first, then namespaces, then everything else, each stage depending on the ones before,
//! so a custom resource is checked against the CRD of the same files and created after it.

use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::description::{ComponentDescription, properties_of};
use crate::value::{Object, Value};

use super::manifests::{documents, yaml_files};

pub const TOKEN: &str = "aiservice:yaml:ConfigGroup";

/// What a ConfigGroup takes (each field's doc comment is its description in the schema).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ConfigGroupArgs {
    /// YAML files of Kubernetes objects (documents separated by `---`), or directories whose
    /// `*.yaml` and `*.yml` files are read in name order. Relative paths start at the program's
    /// directory.
    pub files: Vec<String>,
    /// YAML text of Kubernetes objects (documents separated by `---`), read after the files.
    pub yaml: Option<String>,
    /// The start of each object's resource name, `<prefix>:<Kind>:<namespace>/<name>`.
    /// Default: the ConfigGroup's name.
    pub resource_prefix: Option<String>,
}

/// What a ConfigGroup reports.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigGroupOutputs {
    /// The objects it manages, in the order they are created: `<Kind> <namespace>/<name>`.
    pub objects: Vec<String>,
}

pub fn describe() -> ComponentDescription {
    ComponentDescription {
        token: TOKEN,
        summary: "The Kubernetes objects of YAML files, directories or text, each its own resource: CRDs first, then namespaces, then the objects that use them, each custom resource validated against the CRDs of the same files.",
        inputs: properties_of::<ConfigGroupArgs>(),
        outputs: properties_of::<ConfigGroupOutputs>(),
    }
}

/// When a child is created: after every child of an earlier stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Crd,
    Namespace,
    Object,
}

/// One object of the group, as the resource it becomes.
#[derive(Debug, PartialEq)]
pub struct Child {
    pub stage: Stage,
    /// The resource's type token.
    pub token: &'static str,
    /// The resource's name: `<prefix>:<Kind>:<namespace>/<name>`.
    pub name: String,
    /// How the outputs name the object: `<Kind> <namespace>/<name>`.
    pub label: String,
    /// The resource's inputs: the object as written.
    pub inputs: Object,
}

/// The children of a ConfigGroup named `name` with `args`, in creation order; relative
/// paths start at `base`. A problem names the file and document it is in.
pub fn children(args: &ConfigGroupArgs, name: &str, base: &Path) -> Result<Vec<Child>, String> {
    let mut sources = Vec::new();
    for (index, file) in args.files.iter().enumerate() {
        for path in yaml_files(&base.join(file)).map_err(|e| format!("files[{index}]: {e}"))? {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("files[{index}]: cannot read {}: {e}", path.display()))?;
            sources.push((path.display().to_string(), text));
        }
    }
    if let Some(yaml) = &args.yaml {
        sources.push(("yaml".to_string(), yaml.clone()));
    }
    let prefix = args.resource_prefix.as_deref().unwrap_or(name);
    let mut children = Vec::new();
    for (source, text) in &sources {
        for (index, document) in documents(text)
            .map_err(|e| format!("{source}: {e}"))?
            .into_iter()
            .enumerate()
        {
            let child = child(prefix, document)
                .map_err(|e| format!("{source}, document {}: {e}", index + 1))?;
            children.push(child);
        }
    }
    if children.is_empty() {
        return Err(
            "no Kubernetes objects: set `files` (YAML files or directories) or `yaml`".into(),
        );
    }
    // Stable within a stage: the objects keep the order they were written in.
    children.sort_by_key(|c| c.stage);
    Ok(children)
}

fn child(prefix: &str, document: serde_json::Value) -> Result<Child, String> {
    let text = |value: &serde_json::Value| value.as_str().map(str::to_string);
    let (Value::Object(inputs), true) = (Value::from_json(&document), document.is_object()) else {
        return Err(format!(
            "expected a Kubernetes object (a map with apiVersion, kind and metadata), got {document}"
        ));
    };
    let api_version =
        text(&document["apiVersion"]).ok_or("apiVersion: required, such as \"v1\"")?;
    let kind = text(&document["kind"]).ok_or("kind: required, such as \"ConfigMap\"")?;
    let name = text(&document["metadata"]["name"]).ok_or("metadata.name: required")?;
    let namespace = text(&document["metadata"]["namespace"]);
    let (stage, token) = match (api_version.as_str(), kind.as_str()) {
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => (
            Stage::Crd,
            "aiservice:apiextensions/v1:CustomResourceDefinition",
        ),
        ("v1", "Namespace") => (Stage::Namespace, "aiservice:apiextensions:CustomResource"),
        _ => (Stage::Object, "aiservice:apiextensions:CustomResource"),
    };
    let id = match &namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.clone(),
    };
    Ok(Child {
        stage,
        token,
        name: format!("{prefix}:{kind}:{id}"),
        label: format!("{kind} {id}"),
        inputs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &str = "
apiVersion: ai.example.com/v1
kind: ModelRouter
metadata: {name: chat, namespace: routing}
spec: {route: /v1/chat}
---
# a comment only
---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: routing}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: modelrouters.ai.example.com}
";

    fn group(yaml: &str) -> Result<Vec<Child>, String> {
        let args = ConfigGroupArgs {
            yaml: Some(yaml.into()),
            ..Default::default()
        };
        children(&args, "models", Path::new("/nowhere"))
    }

    #[test]
    fn crds_come_first_then_namespaces_then_the_rest() {
        let children = group(MIXED).unwrap();
        let order: Vec<(&str, &str)> = children
            .iter()
            .map(|c| (c.name.as_str(), c.token))
            .collect();
        assert_eq!(
            order,
            [
                (
                    "models:CustomResourceDefinition:modelrouters.ai.example.com",
                    "aiservice:apiextensions/v1:CustomResourceDefinition"
                ),
                (
                    "models:Namespace:routing",
                    "aiservice:apiextensions:CustomResource"
                ),
                (
                    "models:ModelRouter:routing/chat",
                    "aiservice:apiextensions:CustomResource"
                ),
            ]
        );
        assert_eq!(children[2].label, "ModelRouter routing/chat");
    }

    #[test]
    fn problems_name_the_document() {
        let missing = group("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n").unwrap_err();
        assert_eq!(missing, "yaml, document 1: metadata.name: required");
        let scalar = group("---\njust text\n").unwrap_err();
        assert!(
            scalar.starts_with("yaml, document 1: expected a Kubernetes object"),
            "{scalar}"
        );
        assert!(group("a: [").unwrap_err().starts_with("yaml: not YAML"));
        assert!(group("").unwrap_err().starts_with("no Kubernetes objects"));
        let args = ConfigGroupArgs {
            files: vec!["absent.yaml".into()],
            ..Default::default()
        };
        let unreadable = children(&args, "models", Path::new("/nowhere")).unwrap_err();
        assert!(
            unreadable.starts_with("files[0]: cannot read /nowhere/absent.yaml"),
            "{unreadable}"
        );
    }
}
