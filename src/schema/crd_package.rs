//! The Pulumi schema of a CRD package ([`CrdPackage`]): a resource per served version of each
//! kind, typed from the version's openAPIV3Schema with its descriptions, and the
//! `parameterization` block that tells the engine which provider serves it and with what.
//! `pulumi package add aiservice <crds>` generates the SDK from this.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::resources::crd_package::{CrdPackage, PackagedKind};

use super::crd::ModuleTypes;
use super::kubernetes::{OBJECT_META, add_object_meta};
use super::types::{self, Types, type_ref};

/// Top-level fields every object has; the resource sets `apiVersion` and `kind` itself.
const OBJECT_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// The package schema as JSON text.
pub fn schema_json(package: &CrdPackage) -> String {
    format!("{:#}\n", schema(package))
}

fn schema(package: &CrdPackage) -> Value {
    let mut types = Types::default();
    add_object_meta(&mut types, &package.name);
    let kinds = package.kinds();
    let mut by_module: BTreeMap<&str, Vec<&PackagedKind>> = BTreeMap::new();
    for kind in &kinds {
        by_module.entry(&kind.module).or_default().push(kind);
    }
    let mut resources = Map::new();
    for (module, kinds) in by_module {
        let mut module_types = ModuleTypes::new(&mut types, format!("{}:{module}", package.name));
        for kind in kinds {
            let resource = resource(&package.name, kind, &mut module_types);
            resources.insert(kind.token.clone(), resource);
        }
    }
    let groups: Vec<String> = package
        .crds
        .iter()
        .filter_map(|crd| crd["spec"]["group"].as_str().map(str::to_string))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let description = format!(
        "Typed custom resources of {}, served by the {} provider.",
        groups.join(", "),
        types::PACKAGE
    );
    json!({
        "name": package.name,
        "version": package.version,
        "description": description,
        "repository": env!("CARGO_PKG_REPOSITORY"),
        "pluginDownloadURL": concat!(env!("CARGO_PKG_REPOSITORY"), "/releases/download/v${VERSION}"),
        "parameterization": {
            "baseProvider": {"name": types::PACKAGE, "version": crate::VERSION},
            "parameter": base64::engine::general_purpose::STANDARD.encode(package.parameter()),
        },
        "meta": {"moduleFormat": "(.*)"},
        // The provider's own settings: `<package>:context`, or an explicit provider.
        "config": {"variables": super::config_properties()},
        "provider": {
            "description": "Which cluster to manage and how.",
            "inputProperties": super::config_properties(),
        },
        "language": {
            "python": {
                "packageName": format!("pulumi_{}", package.name),
                "pyproject": {"enabled": true},
                "respectSchemaVersion": true,
            },
            // Our scope, as for our own SDK: `@pulumi/<name>` could shadow one of Pulumi's.
            "nodejs": {
                "packageName": format!("@aiservice/{}", package.name),
                "packageDescription": description,
                "respectSchemaVersion": true,
            },
        },
        "types": types.into_json(),
        "resources": resources,
    })
}

/// One served version of a kind: `apiVersion` and `kind` fixed, `metadata`, and the CRD's
/// other top-level fields in; the object as the cluster has it, with `status`, out.
fn resource(package: &str, kind: &PackagedKind, module_types: &mut ModuleTypes) -> Value {
    let constant =
        |value: &str, what: &str| json!({"type": "string", "const": value, "description": what});
    let mut inputs = Map::new();
    inputs.insert(
        "apiVersion".into(),
        constant(&kind.api_version, "The API version, always this one."),
    );
    inputs.insert(
        "kind".into(),
        constant(&kind.kind, "The kind, always this one."),
    );
    inputs.insert(
        "metadata".into(),
        json!({
            "$ref": type_ref(&types::token_in(package, OBJECT_META))["$ref"],
            "description": "Standard object metadata. Unset `name`: a name is generated from the resource name.",
        }),
    );
    let mut outputs = inputs.clone();
    let fields = kind.schema["properties"].as_object();
    for (field, node) in fields.into_iter().flatten() {
        if OBJECT_FIELDS.contains(&field.as_str()) {
            continue;
        }
        let spec = module_types.field(&kind.kind, field, node);
        if field != "status" {
            inputs.insert(field.clone(), spec.clone());
        }
        outputs.insert(field.clone(), spec);
    }
    if fields.is_none() {
        // A schema that declares no fields (or none at all) takes any spec.
        let spec = types::with_description(types::any(), "The desired state.".into());
        inputs.insert("spec".into(), spec.clone());
        outputs.insert("spec".into(), spec);
    }
    let required_inputs: Vec<Value> = types::required(&kind.schema)
        .into_iter()
        .filter(|f| f.as_str().is_some_and(|f| !OBJECT_FIELDS.contains(&f)))
        .collect();
    // What the CRD requires the object has, so SDKs type it as always there.
    let mut required: Vec<Value> = OBJECT_FIELDS.map(Value::from).to_vec();
    required.extend(required_inputs.iter().cloned());
    let mut description = types::description(&kind.schema)
        .unwrap_or_else(|| format!("The {} custom resource ({}).", kind.kind, kind.api_version));
    let scope = if kind.namespaced {
        "Namespaced: `metadata.namespace` defaults to the provider's namespace."
    } else {
        "Cluster-scoped."
    };
    description.push_str(&format!(
        "\n\n{scope} Import id: `<namespace>/<name>` or `<name>`."
    ));
    let mut spec = json!({
        "description": description,
        "inputProperties": inputs,
        "requiredInputs": required_inputs,
        "properties": outputs,
        "required": required,
    });
    if let Some(warning) = &kind.deprecation {
        spec["deprecationMessage"] = Value::String(warning.clone());
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package() -> CrdPackage {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.shop.example.com"},
            "spec": {
                "group": "shop.example.com",
                "scope": "Namespaced",
                "names": {"kind": "Widget", "plural": "widgets"},
                "versions": [{
                    "name": "v1",
                    "served": true,
                    "storage": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "description": "A widget.",
                        "required": ["spec"],
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "metadata": {"type": "object"},
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"x-kubernetes-int-or-string": true},
                                    "colour": {"type": "string", "enum": ["red", "blue"], "description": "Its colour."},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                                    "parts": {"type": "array", "items": {
                                        "type": "object",
                                        "properties": {"name": {"type": "string"}},
                                    }},
                                    "selector": {"type": "object", "properties": {"app.kubernetes.io/name": {"type": "string"}}},
                                },
                            },
                            "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
                        },
                    }},
                }],
            },
        });
        CrdPackage::from_parameter(
            "shop",
            "1.0.0",
            &json!({"crds": [crd]}).to_string().into_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn kinds_are_typed_from_their_crd_schema() {
        let schema = schema(&package());
        let widget = &schema["resources"]["shop:shop/v1:Widget"];
        assert_eq!(
            widget["inputProperties"]["apiVersion"]["const"],
            "shop.example.com/v1"
        );
        assert_eq!(widget["inputProperties"]["kind"]["const"], "Widget");
        assert_eq!(
            widget["inputProperties"]["metadata"]["$ref"],
            "#/types/shop:meta/v1:ObjectMeta"
        );
        assert_eq!(widget["requiredInputs"], json!(["spec"]));
        assert_eq!(
            widget["required"],
            json!(["apiVersion", "kind", "metadata", "spec"])
        );
        assert!(widget["inputProperties"].get("status").is_none());
        assert_eq!(
            widget["properties"]["status"]["$ref"],
            "#/types/shop:shop/v1:WidgetStatus"
        );
        let spec = &schema["types"]["shop:shop/v1:WidgetSpec"];
        assert_eq!(spec["required"], json!(["size"]));
        let fields = &spec["properties"];
        assert_eq!(
            fields["size"]["oneOf"],
            json!([{"type": "integer"}, {"type": "string"}])
        );
        assert_eq!(fields["colour"]["type"], "string");
        assert_eq!(fields["colour"]["description"], "Its colour.");
        assert_eq!(
            fields["labels"]["additionalProperties"],
            json!({"type": "string"})
        );
        assert_eq!(fields["extra"]["$ref"], "pulumi.json#/Any");
        assert_eq!(
            fields["parts"]["items"]["$ref"],
            "#/types/shop:shop/v1:WidgetSpecPartsItem"
        );
        // A field name no SDK can spell leaves its object a free-form map.
        assert_eq!(fields["selector"]["$ref"], "pulumi.json#/Any");
        assert!(schema["types"].get("shop:meta/v1:ObjectMeta").is_some());
    }

    /// Every `$ref` of a schema names a type it has (or Pulumi's Any).
    fn assert_references_resolve(schema: &Value) {
        fn walk(node: &Value, types: &Map<String, Value>, dangling: &mut Vec<String>) {
            match node {
                Value::Object(map) => {
                    if let Some(Value::String(reference)) = map.get("$ref")
                        && reference != "pulumi.json#/Any"
                    {
                        let token = reference.trim_start_matches("#/types/");
                        if !types.contains_key(token) {
                            dangling.push(reference.clone());
                        }
                    }
                    map.values().for_each(|v| walk(v, types, dangling));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, types, dangling)),
                _ => {}
            }
        }
        let mut dangling = Vec::new();
        walk(schema, schema["types"].as_object().unwrap(), &mut dangling);
        assert!(dangling.is_empty(), "dangling references: {dangling:?}");
    }

    /// A schema node `depth` objects deep, each level with `width` scalar fields and one
    /// described at length (real CRDs' descriptions make their files megabytes).
    fn deep(depth: usize, width: usize) -> Value {
        let mut properties = Map::new();
        for i in 0..width {
            let scalar = ["string", "integer", "boolean", "number"][i % 4];
            properties.insert(
                format!("field{i}"),
                json!({"type": scalar, "description": "A field. ".repeat(40)}),
            );
        }
        properties.insert(
            "ports".into(),
            json!({"type": "array", "items": {"x-kubernetes-int-or-string": true}}),
        );
        properties.insert(
            "labels".into(),
            json!({"type": "object", "additionalProperties": {"type": "string"}}),
        );
        if depth > 0 {
            properties.insert("nested".into(), deep(depth - 1, width));
            properties.insert(
                "items".into(),
                json!({"type": "array", "items": deep(depth - 1, width / 2)}),
            );
        }
        json!({"type": "object", "description": "A level.", "properties": properties})
    }

    #[test]
    fn many_kinds_of_a_multi_megabyte_file_are_typed_whole() {
        let version = |name: &str| {
            json!({
                "name": name, "served": true, "storage": name == "v2",
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": deep(5, 8), "status": deep(1, 4),
                }}},
            })
        };
        let crds: Vec<Value> = (0..24)
            .map(|i| {
                json!({
                    "apiVersion": "apiextensions.k8s.io/v1",
                    "kind": "CustomResourceDefinition",
                    "metadata": {"name": format!("kind{i}s.big.example.com")},
                    "spec": {
                        "group": "big.example.com",
                        "scope": "Namespaced",
                        "names": {"kind": format!("Kind{i}"), "plural": format!("kind{i}s")},
                        "versions": [version("v1"), version("v2")],
                    },
                })
            })
            .collect();
        let text = crds
            .iter()
            .map(|c| serde_yaml::to_string(c).unwrap())
            .collect::<Vec<_>>()
            .join("---\n");
        assert!(text.len() > 2_000_000, "the file is {} bytes", text.len());
        let dir = std::env::temp_dir().join(format!("crd-package-big-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("big.yaml"), &text).unwrap();
        let args = ["name=big", "big.yaml"].map(String::from);
        let package = crate::resources::crd_package::PackageArgs::parse(&args)
            .unwrap()
            .package(&dir, Vec::new());
        std::fs::remove_dir_all(&dir).unwrap();
        let package = package.unwrap();
        let schema = schema(&package);
        assert_eq!(schema["resources"].as_object().unwrap().len(), 48);
        let spec = &schema["types"]["big:big/v2:Kind0Spec"]["properties"];
        assert_eq!(spec["nested"]["$ref"], "#/types/big:big/v2:Kind0SpecNested");
        assert_eq!(
            spec["ports"]["items"]["oneOf"],
            json!([{"type": "integer"}, {"type": "string"}])
        );
        // Identical nodes of one module share a type: Kind1's spec is Kind0's.
        assert_eq!(
            schema["resources"]["big:big/v1:Kind1"]["inputProperties"]["spec"]["$ref"],
            "#/types/big:big/v1:Kind0Spec"
        );
        assert_references_resolve(&schema);
    }

    #[test]
    fn the_example_packages_references_resolve() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk-examples/crds");
        let args = ["name=mlplat", "mlplat"].map(String::from);
        let package = crate::resources::crd_package::PackageArgs::parse(&args)
            .unwrap()
            .package(&dir, Vec::new())
            .unwrap();
        let schema = schema(&package);
        assert_eq!(
            schema["resources"]["mlplat:serving/v1beta1:InferenceEndpoint"]["deprecationMessage"],
            "serving.mlplat.example.com/v1beta1 InferenceEndpoint is deprecated; use v1"
        );
        assert!(
            schema["resources"]
                .get("mlplat:serving/v1alpha1:InferenceEndpoint")
                .is_none()
        );
        assert_references_resolve(&schema);
    }

    #[test]
    fn the_schema_names_its_base_provider_and_carries_the_crds() {
        let package = package();
        let schema = schema(&package);
        let parameterization = &schema["parameterization"];
        assert_eq!(
            parameterization["baseProvider"],
            json!({"name": "aiservice", "version": crate::VERSION})
        );
        let parameter = base64::engine::general_purpose::STANDARD
            .decode(parameterization["parameter"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            CrdPackage::from_parameter("shop", "1.0.0", &parameter).unwrap(),
            package
        );
        assert_eq!(schema["language"]["python"]["packageName"], "pulumi_shop");
    }
}
