//! Whether a CRD version's schema is structural, as the apiserver requires.

use super::*;

/// Why `schema` (a CRD version's openAPIV3Schema, at `path` in the CRD's inputs) is not
/// structural.
pub fn structural_problems(schema: &serde_json::Value, path: &PropertyPath) -> Vec<CheckFailure> {
    let mut problems = Vec::new();
    let Some(node) = schema.as_object() else {
        problems.push(CheckFailure::new(
            path.clone(),
            format!(
                "structural schema: expected a schema object, got {}",
                truncate(&schema.to_string())
            ),
        ));
        return problems;
    };
    match type_of(node) {
        Some("object") => {}
        Some(other) => problems.push(CheckFailure::new(
            path.clone(),
            format!("structural schema: the root must have type: object, got type: {other}"),
        )),
        None => problems.push(CheckFailure::new(
            path.clone(),
            "structural schema: the root must have type: object",
        )),
    }
    walk_structure(node, path, true, &mut problems);
    problems
}

pub(super) fn walk_structure(
    node: &Map<String, Json>,
    path: &PropertyPath,
    root: bool,
    problems: &mut Vec<CheckFailure>,
) {
    let mut problem = |reason: &str| {
        problems.push(CheckFailure::new(
            path.clone(),
            format!("structural schema: {reason}"),
        ))
    };
    let exempt = flag(node, "x-kubernetes-int-or-string")
        || flag(node, "x-kubernetes-preserve-unknown-fields");
    if !root && type_of(node).is_none() && !exempt {
        problem("type is required (or x-kubernetes-preserve-unknown-fields: true)");
    }
    if type_of(node) == Some("array") && node.get("items").is_none() {
        problem("items is required when type is array");
    }
    let properties = node.get("properties").and_then(Json::as_object);
    let additional = node.get("additionalProperties").filter(|a| a.is_object());
    if properties.is_some() && additional.is_some() {
        problem("properties and additionalProperties (as a schema) cannot both be set");
    }

    for (name, schema) in properties.into_iter().flatten() {
        walk_child(schema, path.key("properties").key(name), problems);
    }
    match node.get("items") {
        Some(Json::Array(_)) => problems.push(CheckFailure::new(
            path.key("items"),
            "structural schema: items must be a single schema, not a list",
        )),
        Some(schema) => walk_child(schema, path.key("items"), problems),
        None => {}
    }
    if let Some(schema) = additional {
        walk_child(schema, path.key("additionalProperties"), problems);
    }
}

pub(super) fn walk_child(schema: &Json, path: PropertyPath, problems: &mut Vec<CheckFailure>) {
    match schema.as_object() {
        Some(node) => walk_structure(node, &path, false, problems),
        None => problems.push(CheckFailure::new(
            path,
            format!(
                "structural schema: expected a schema object, got {}",
                truncate(&schema.to_string())
            ),
        )),
    }
}
