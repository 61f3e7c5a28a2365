use super::*;
use serde_json::json;

/// The ModelServing CRD's schema shape.
fn model_serving() -> Json {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "image": {"type": "string"},
                    "replicas": {"type": "integer", "minimum": 0}
                },
                "required": ["image"]
            }
        }
    })
}

fn obj(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

fn secret(value: Value) -> Value {
    Value::Secret(Box::new(value))
}

/// A whole ModelServing object with the given spec.
fn resource(spec: Value) -> Value {
    obj(vec![
        ("apiVersion", s("ai.example.com/v1")),
        ("kind", s("ModelServing")),
        ("metadata", obj(vec![("name", s("llama"))])),
        ("spec", spec),
    ])
}

/// `(path, reason)` of every failure of `value` at the root.
fn failures(schema: &Json, value: &Value) -> Vec<(String, String)> {
    failures_at(schema, value, &PropertyPath::root())
}

fn failures_at(schema: &Json, value: &Value, path: &PropertyPath) -> Vec<(String, String)> {
    let mut found = Vec::new();
    validate(schema, value, path, &mut found);
    found
        .into_iter()
        .map(|f| (f.path.to_string(), f.reason))
        .collect()
}

fn one(path: &str, reason: &str) -> Vec<(String, String)> {
    vec![(path.to_string(), reason.to_string())]
}

fn spec_with(value: Vec<(&str, Value)>) -> Vec<(String, String)> {
    failures(&model_serving(), &resource(obj(value)))
}

#[test]
fn a_valid_resource_has_no_failures() {
    let found = spec_with(vec![
        ("image", s("vllm:1")),
        ("replicas", Value::Number(2.0)),
    ]);
    assert_eq!(found, vec![]);
}

#[test]
fn wrong_types_name_expected_and_found() {
    assert_eq!(
        spec_with(vec![("image", s("vllm:1")), ("replicas", s("three"))]),
        one("spec.replicas", r#"expected integer, got string "three""#)
    );
    assert_eq!(
        spec_with(vec![("image", Value::Number(1.5))]),
        one("spec.image", "expected string, got number 1.5")
    );
    assert_eq!(
        spec_with(vec![("image", s("x")), ("replicas", Value::Number(1.5))]),
        one("spec.replicas", "expected integer, got number 1.5")
    );
    assert_eq!(
        failures(&model_serving(), &resource(s("x"))),
        one("spec", r#"expected object, got string "x""#)
    );
    let schema = json!({"type": "object", "properties": {
        "on": {"type": "boolean"},
        "ratio": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}}
    }});
    let found = failures_at(
        &schema,
        &obj(vec![
            ("on", s("yes")),
            ("ratio", Value::Number(0.5)),
            ("tags", Value::Array(vec![s("a"), Value::Bool(true)])),
        ]),
        &PropertyPath::dotted("spec"),
    );
    assert_eq!(
        found,
        vec![
            (
                "spec.on".to_string(),
                r#"expected boolean, got string "yes""#.to_string()
            ),
            (
                "spec.tags[1]".to_string(),
                "expected string, got boolean true".to_string()
            ),
        ]
    );
}

#[test]
fn integral_numbers_are_integers() {
    assert_eq!(
        spec_with(vec![("image", s("x")), ("replicas", Value::Number(3.0))]),
        vec![]
    );
}

#[test]
fn found_values_are_truncated_json() {
    let long = "a".repeat(60);
    let found = spec_with(vec![("image", s("x")), ("replicas", s(&long))]);
    let expected = format!(r#"expected integer, got string "{}..."#, "a".repeat(36));
    assert_eq!(found, one("spec.replicas", &expected));
    let found = spec_with(vec![(
        "image",
        obj(vec![("repo", s("vllm")), ("tag", Value::Number(1.0))]),
    )]);
    assert_eq!(
        found,
        one(
            "spec.image",
            r#"expected string, got object {"repo":"vllm","tag":1}"#
        )
    );
}

#[test]
fn null_is_accepted_only_when_nullable() {
    assert_eq!(
        spec_with(vec![("image", s("x")), ("replicas", Value::Null)]),
        one("spec.replicas", "expected integer, got null")
    );
    let schema = json!({"type": "integer", "nullable": true, "minimum": 1});
    assert_eq!(
        failures_at(
            &schema,
            &Value::Null,
            &PropertyPath::dotted("spec.replicas")
        ),
        vec![]
    );
}

#[test]
fn missing_required_is_reported_at_the_property() {
    assert_eq!(
        spec_with(vec![("replicas", Value::Number(1.0))]),
        one("spec.image", "required by the schema, but not set")
    );
}

#[test]
fn required_with_a_default_is_filled_in_by_the_apiserver() {
    let schema = json!({"type": "object",
        "properties": {"image": {"type": "string", "default": "vllm:latest"}},
        "required": ["image"]});
    assert_eq!(
        failures_at(&schema, &obj(vec![]), &PropertyPath::dotted("spec")),
        vec![]
    );
}

#[test]
fn enum_lists_the_allowed_values() {
    let schema = json!({"type": "string", "enum": ["a", "b"]});
    let path = PropertyPath::dotted("spec.mode");
    assert_eq!(
        failures_at(&schema, &s("c"), &path),
        one("spec.mode", r#"expected one of ["a", "b"], got "c""#)
    );
    assert_eq!(failures_at(&schema, &s("b"), &path), vec![]);
    let numbers = json!({"type": "integer", "enum": [1, 2]});
    assert_eq!(failures_at(&numbers, &Value::Number(2.0), &path), vec![]);
}

#[test]
fn minimum_and_maximum() {
    assert_eq!(
        spec_with(vec![("image", s("x")), ("replicas", Value::Number(-1.0))]),
        one("spec.replicas", "must be at least 0, got -1")
    );
    let path = PropertyPath::dotted("spec.replicas");
    // CRDs publish integer bounds as floats (JSONSchemaProps); messages show integers.
    let published = json!({"type": "integer", "minimum": 0.0});
    assert_eq!(
        failures_at(&published, &Value::Number(-1.0), &path),
        one("spec.replicas", "must be at least 0, got -1")
    );
    let max = json!({"type": "integer", "maximum": 10});
    assert_eq!(
        failures_at(&max, &Value::Number(12.0), &path),
        one("spec.replicas", "must be at most 10, got 12")
    );
    assert_eq!(failures_at(&max, &Value::Number(10.0), &path), vec![]);
    let exclusive = json!({"type": "number", "minimum": 0, "exclusiveMinimum": true,
        "maximum": 1, "exclusiveMaximum": true});
    assert_eq!(
        failures_at(&exclusive, &Value::Number(0.0), &path),
        one("spec.replicas", "must be greater than 0, got 0")
    );
    assert_eq!(
        failures_at(&exclusive, &Value::Number(1.0), &path),
        one("spec.replicas", "must be less than 1, got 1")
    );
    assert_eq!(failures_at(&exclusive, &Value::Number(0.5), &path), vec![]);
    let multiple = json!({"type": "number", "multipleOf": 0.5});
    assert_eq!(failures_at(&multiple, &Value::Number(1.5), &path), vec![]);
    assert_eq!(
        failures_at(&multiple, &Value::Number(1.2), &path),
        one("spec.replicas", "must be a multiple of 0.5, got 1.2")
    );
}

#[test]
fn string_lengths_count_characters() {
    let schema = json!({"type": "string", "minLength": 2, "maxLength": 3});
    let path = PropertyPath::dotted("spec.name");
    assert_eq!(failures_at(&schema, &s("äöü"), &path), vec![]);
    assert_eq!(
        failures_at(&schema, &s("abcd"), &path),
        one("spec.name", "must be at most 3 characters long, got 4")
    );
    assert_eq!(
        failures_at(&schema, &s("a"), &path),
        one("spec.name", "must be at least 2 characters long, got 1")
    );
}

#[test]
fn pattern_must_match() {
    let schema = json!({"type": "string", "pattern": "^[a-z]+$"});
    let path = PropertyPath::dotted("spec.name");
    assert_eq!(
        failures_at(&schema, &s("X1"), &path),
        one("spec.name", r#"must match ^[a-z]+$, got "X1""#)
    );
    assert_eq!(failures_at(&schema, &s("abc"), &path), vec![]);
    // An invalid pattern is the apiserver's to reject.
    let invalid = json!({"type": "string", "pattern": "(unclosed"});
    assert_eq!(failures_at(&invalid, &s("X1"), &path), vec![]);
}

#[test]
fn array_and_object_sizes() {
    let path = PropertyPath::dotted("spec.ports");
    let items = json!({"type": "array", "items": {"type": "integer"},
        "minItems": 1, "maxItems": 2, "uniqueItems": true});
    assert_eq!(
        failures_at(&items, &Value::Array(vec![]), &path),
        one("spec.ports", "must have at least 1 item, got 0")
    );
    let three = Value::Array(vec![Value::Number(1.0); 3]);
    assert_eq!(
        failures_at(&items, &three, &path),
        vec![
            (
                "spec.ports".to_string(),
                "must have at most 2 items, got 3".to_string()
            ),
            (
                "spec.ports[1]".to_string(),
                "items must be unique, but this one equals [0]".to_string()
            ),
            (
                "spec.ports[2]".to_string(),
                "items must be unique, but this one equals [0]".to_string()
            ),
        ]
    );
    let props = json!({"type": "object", "additionalProperties": {"type": "string"},
        "minProperties": 1, "maxProperties": 1});
    let path = PropertyPath::dotted("spec.labels");
    assert_eq!(
        failures_at(&props, &obj(vec![]), &path),
        one("spec.labels", "must have at least 1 property, got 0")
    );
    assert_eq!(
        failures_at(&props, &obj(vec![("a", s("1")), ("b", s("2"))]), &path),
        one("spec.labels", "must have at most 1 property, got 2")
    );
}

#[test]
fn unknown_fields_are_pruned_unless_preserved() {
    assert_eq!(
        spec_with(vec![("image", s("x")), ("replica", Value::Number(1.0))]),
        one(
            "spec.replica",
            "not in the schema (known: image, replicas); the apiserver would drop it"
        )
    );
    let mut schema = model_serving();
    schema["properties"]["spec"]["x-kubernetes-preserve-unknown-fields"] = json!(true);
    let value = resource(obj(vec![
        ("image", s("x")),
        ("replica", Value::Number(1.0)),
        ("replicas", s("one")),
    ]));
    // Extra fields are kept; the listed ones are still validated.
    assert_eq!(
        failures(&schema, &value),
        one("spec.replicas", r#"expected integer, got string "one""#)
    );
}

#[test]
fn additional_properties_schema_and_false() {
    let path = PropertyPath::dotted("spec.labels");
    let map = json!({"type": "object", "additionalProperties": {"type": "string"}});
    assert_eq!(
        failures_at(
            &map,
            &obj(vec![("app", s("x")), ("n", Value::Number(1.0))]),
            &path
        ),
        one("spec.labels.n", "expected string, got number 1")
    );
    let closed = json!({"type": "object", "properties": {"a": {"type": "string"}},
        "additionalProperties": false});
    assert_eq!(
        failures_at(&closed, &obj(vec![("b", s("x"))]), &path),
        one(
            "spec.labels.b",
            "not in the schema (known: a); additional properties are not allowed"
        )
    );
}

#[test]
fn root_managed_properties_are_left_to_kubernetes() {
    let mut schema = model_serving();
    schema["required"] = json!(["apiVersion", "spec"]);
    schema["properties"]["metadata"] = json!({"type": "string"});
    let value = obj(vec![
        ("kind", Value::Number(1.0)),
        ("metadata", obj(vec![("name", s("x"))])),
        ("spec", obj(vec![("image", s("x"))])),
    ]);
    assert_eq!(failures(&schema, &value), vec![]);
    // Below the root they are ordinary properties.
    let nested = json!({"type": "object", "properties": {"image": {"type": "string"}}});
    assert_eq!(
        failures_at(
            &nested,
            &obj(vec![("kind", s("x"))]),
            &PropertyPath::dotted("spec")
        ),
        one(
            "spec.kind",
            "not in the schema (known: image); the apiserver would drop it"
        )
    );
}

#[test]
fn embedded_resources_keep_their_type_and_metadata() {
    let schema = json!({"type": "object", "properties": {"template": {
        "x-kubernetes-embedded-resource": true,
        "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
    }}});
    let template = obj(vec![
        ("apiVersion", s("v1")),
        ("kind", s("Pod")),
        ("metadata", obj(vec![])),
        ("spec", obj(vec![("containers", Value::Array(vec![]))])),
        ("status", obj(vec![])),
    ]);
    assert_eq!(
        failures_at(
            &schema,
            &obj(vec![("template", template)]),
            &PropertyPath::dotted("spec")
        ),
        one(
            "spec.template.status",
            "not in the schema (known: spec); the apiserver would drop it"
        )
    );
}

#[test]
fn unknowns_are_never_failures() {
    let unresolved_ref = Value::ResourceRef {
        urn: "urn:pulumi:dev::p::k8s:Secret::s".to_string(),
        id: None,
        package_version: String::new(),
    };
    assert_eq!(
        spec_with(vec![
            ("image", Value::Unknown),
            ("replicas", unresolved_ref)
        ]),
        vec![]
    );
    assert_eq!(
        failures(&model_serving(), &resource(Value::Unknown)),
        vec![]
    );
    // An unknown does not satisfy required only by being absent.
    assert_eq!(
        spec_with(vec![("replicas", Value::Unknown)]),
        one("spec.image", "required by the schema, but not set")
    );
}

#[test]
fn resource_references_are_checked_by_their_id() {
    let reference = Value::ResourceRef {
        urn: "urn:pulumi:dev::p::k8s:Secret::s".to_string(),
        id: Some(Box::new(s("ns/name"))),
        package_version: String::new(),
    };
    assert_eq!(
        spec_with(vec![("image", s("x")), ("replicas", reference)]),
        one("spec.replicas", r#"expected integer, got string "ns/name""#)
    );
}

#[test]
fn secrets_are_validated_without_showing_their_content() {
    assert_eq!(spec_with(vec![("image", secret(s("vllm:1")))]), vec![]);
    assert_eq!(
        spec_with(vec![("image", s("x")), ("replicas", secret(s("hunter2")))]),
        one("spec.replicas", "expected integer, got a secret string")
    );
    assert_eq!(
        spec_with(vec![
            ("image", s("x")),
            ("replicas", secret(Value::Number(-5.0)))
        ]),
        one("spec.replicas", "must be at least 0, got a secret number")
    );
    let pattern = json!({"type": "string", "pattern": "^[a-z]+$", "enum": ["abc"]});
    let found = failures_at(
        &pattern,
        &secret(s("Hunter2")),
        &PropertyPath::dotted("spec.token"),
    );
    assert_eq!(
        found,
        vec![
            (
                "spec.token".to_string(),
                r#"expected one of ["abc"], got a secret string"#.to_string()
            ),
            (
                "spec.token".to_string(),
                "must match ^[a-z]+$, got a secret string".to_string()
            ),
        ]
    );
    // Inside a secret object every field is secret too.
    let found = failures(
        &model_serving(),
        &resource(secret(obj(vec![("image", Value::Number(42.0))]))),
    );
    assert_eq!(
        found,
        one("spec.image", "expected string, got a secret number")
    );
    for (_, reason) in spec_with(vec![("image", s("x")), ("replicas", secret(s("hunter2")))]) {
        assert!(!reason.contains("hunter2"), "{reason}");
    }
    // A secret nested in a shown value is masked.
    let found = spec_with(vec![(
        "image",
        obj(vec![("password", secret(s("hunter2")))]),
    )]);
    assert_eq!(
        found,
        one(
            "spec.image",
            r#"expected string, got object {"password":"[secret]"}"#
        )
    );
}

#[test]
fn int_or_string_accepts_both() {
    let schema = json!({"x-kubernetes-int-or-string": true});
    let path = PropertyPath::dotted("spec.port");
    assert_eq!(failures_at(&schema, &Value::Number(8080.0), &path), vec![]);
    assert_eq!(failures_at(&schema, &s("http"), &path), vec![]);
    assert_eq!(
        failures_at(&schema, &Value::Number(1.5), &path),
        one("spec.port", "expected integer or string, got number 1.5")
    );
    assert_eq!(
        failures_at(&schema, &Value::Bool(true), &path),
        one("spec.port", "expected integer or string, got boolean true")
    );
    assert_eq!(
        failures_at(&schema, &Value::Null, &path),
        one("spec.port", "expected integer or string, got null")
    );
    let with_any_of = json!({"x-kubernetes-int-or-string": true,
        "anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+%$"}]});
    assert_eq!(failures_at(&with_any_of, &s("50%"), &path), vec![]);
    assert_eq!(
        failures_at(&with_any_of, &s("half"), &path),
        one(
            "spec.port",
            "must match at least one schema in anyOf, but matches none"
        )
    );
}

#[test]
fn combinators_check_values_but_never_prune() {
    let schema = json!({"type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
        "allOf": [{"properties": {"a": {"maxLength": 2}}}],
        "not": {"required": ["c"]}});
    let path = PropertyPath::dotted("spec.source");
    assert_eq!(
        failures_at(&schema, &obj(vec![("a", s("x"))]), &path),
        vec![]
    );
    assert_eq!(
        failures_at(&schema, &obj(vec![]), &path),
        one(
            "spec.source",
            "must match exactly one schema in oneOf, but matches none"
        )
    );
    assert_eq!(
        failures_at(&schema, &obj(vec![("a", s("xyz")), ("b", s("y"))]), &path),
        vec![
            (
                "spec.source.a".to_string(),
                "must be at most 2 characters long, got 3".to_string()
            ),
            (
                "spec.source".to_string(),
                "must match exactly one schema in oneOf, but matches 2 ([0], [1])".to_string()
            ),
        ]
    );
    // CEL rules are left to the apiserver's dry-run.
    let cel = json!({"type": "string",
        "x-kubernetes-validations": [{"rule": "self == 'never'"}]});
    assert_eq!(failures_at(&cel, &s("x"), &path), vec![]);
}

#[test]
fn a_structural_schema_has_no_problems() {
    let path = PropertyPath::dotted("spec.versions")
        .index(0)
        .key("schema")
        .key("openAPIV3Schema");
    assert_eq!(structural_problems(&model_serving(), &path), vec![]);
    let preserved = json!({"type": "object", "properties": {
        "raw": {"x-kubernetes-preserve-unknown-fields": true},
        "port": {"x-kubernetes-int-or-string": true},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "args": {"type": "array", "items": {"type": "string"}}
    }});
    assert_eq!(structural_problems(&preserved, &path), vec![]);
}

#[test]
fn structural_problems_point_into_the_crd() {
    let path = PropertyPath::dotted("spec.versions")
        .index(0)
        .key("schema")
        .key("openAPIV3Schema");
    let schema = json!({"type": "object", "properties": {"spec": {
        "type": "object",
        "properties": {
            "image": {"description": "no type"},
            "args": {"type": "array"},
            "env": {"type": "array", "items": {}},
            "labels": {"type": "object",
                "properties": {"a": {"type": "string"}},
                "additionalProperties": {"type": "string"}}
        }
    }}});
    let found: Vec<(String, String)> = structural_problems(&schema, &path)
        .into_iter()
        .map(|f| (f.path.to_string(), f.reason))
        .collect();
    let base = "spec.versions[0].schema.openAPIV3Schema.properties.spec.properties";
    let type_required =
        "structural schema: type is required (or x-kubernetes-preserve-unknown-fields: true)";
    let mut expected = vec![
        (
            format!("{base}.args"),
            "structural schema: items is required when type is array".to_string(),
        ),
        (format!("{base}.env.items"), type_required.to_string()),
        (format!("{base}.image"), type_required.to_string()),
        (
            format!("{base}.labels"),
            "structural schema: properties and additionalProperties (as a schema) cannot both be set"
                .to_string(),
        ),
    ];
    let mut found = found;
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn the_structural_root_must_be_an_object() {
    let path = PropertyPath::dotted("spec.versions")
        .index(1)
        .key("schema")
        .key("openAPIV3Schema");
    let problems = |schema: Json| -> Vec<(String, String)> {
        structural_problems(&schema, &path)
            .into_iter()
            .map(|f| (f.path.to_string(), f.reason))
            .collect()
    };
    let at = "spec.versions[1].schema.openAPIV3Schema";
    assert_eq!(
        problems(json!({"x-kubernetes-preserve-unknown-fields": true})),
        one(at, "structural schema: the root must have type: object")
    );
    assert_eq!(
        problems(json!({"type": "string"})),
        one(
            at,
            "structural schema: the root must have type: object, got type: string"
        )
    );
    assert_eq!(
        problems(json!("object")),
        one(
            at,
            r#"structural schema: expected a schema object, got "object""#
        )
    );
    assert_eq!(
        problems(json!({"type": "object", "properties": {"spec": true}})),
        one(
            &format!("{at}.properties.spec"),
            "structural schema: expected a schema object, got true"
        )
    );
}

#[test]
fn cel_rules_of_any_crd_are_checked_locally() {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {"spec": {
            "type": "object",
            "properties": {"minReplicas": {"type": "integer"}, "maxReplicas": {"type": "integer"}},
            "x-kubernetes-validations": [{"rule": "self.minReplicas <= self.maxReplicas", "message": "minReplicas must not exceed maxReplicas"}],
        }},
    });
    let bad = serde_json::json!({"spec": {"minReplicas": 5, "maxReplicas": 2}});
    let failures = cel_failures(&schema, &bad);
    assert_eq!(failures.len(), 1, "{failures:?}");
    // The rule's message, not its source.
    assert_eq!(
        failures[0].to_string(),
        "spec: minReplicas must not exceed maxReplicas"
    );
    let good = serde_json::json!({"spec": {"minReplicas": 1, "maxReplicas": 2}});
    assert!(cel_failures(&schema, &good).is_empty());
}
