//! A value checked against the schema: types, nullability, enums, bounds, lengths, patterns,
//! required and unknown properties, and the combinators.

use super::*;

/// How the value being checked was reached.
#[derive(Clone, Copy)]
pub(super) struct Ctx {
    /// The value is (inside) a secret: messages name only its type.
    pub(super) secret: bool,
    /// Checking the structural part of the schema, not an `allOf`/`anyOf`/`oneOf`/`not`
    /// branch: only the structural part decides which fields the apiserver keeps.
    pub(super) structural: bool,
}

pub(super) fn check(
    schema: &Json,
    value: &Value,
    path: Trail<'_>,
    ctx: Ctx,
    failures: &mut Vec<CheckFailure>,
) {
    // `true`, `{}` or anything that is not a schema object accepts every value.
    let Some(node) = schema.as_object() else {
        return;
    };
    let Some((value, secret)) = resolve(value, ctx.secret) else {
        return;
    };
    let ctx = Ctx { secret, ..ctx };

    let int_or_string = flag(node, "x-kubernetes-int-or-string");
    let embedded = flag(node, "x-kubernetes-embedded-resource");
    let ty = type_of(node).or(if embedded { Some("object") } else { None });
    let expected = if int_or_string {
        Some("integer or string")
    } else {
        ty
    };

    if matches!(value, Value::Null) {
        if !flag(node, "nullable") {
            let expected = expected.unwrap_or("a value");
            failures.push(failure(path, format!("expected {expected}, got null")));
        }
        return;
    }

    let type_ok = if int_or_string {
        is_integer(value) || matches!(value, Value::String(_))
    } else {
        ty.is_none_or(|ty| type_matches(ty, value))
    };
    if !type_ok {
        let expected = expected.unwrap_or("a value");
        failures.push(failure(
            path,
            format!("expected {expected}, got {}", describe(value, ctx.secret)),
        ));
        return;
    }

    check_enum(node, value, path, ctx, failures);
    match value {
        Value::Number(n) => check_number(node, *n, value, path, ctx, failures),
        Value::String(s) => check_string(node, s, value, path, ctx, failures),
        Value::Array(items) => check_array(node, items, path, ctx, failures),
        Value::Object(fields) => check_object(node, fields, path, ctx, embedded, failures),
        _ => {}
    }
    check_combinators(node, value, path, ctx, failures);
}

/// The value the apiserver would see, and whether it is secret; `None` while it is unknown.
pub(super) fn resolve(value: &Value, secret: bool) -> Option<(&Value, bool)> {
    match value {
        Value::Unknown | Value::ResourceRef { id: None, .. } => None,
        Value::ResourceRef { id: Some(id), .. } => resolve(id, secret),
        Value::Secret(inner) => resolve(inner, true),
        other => Some((other, secret)),
    }
}

/// A failure of the value at `path`, raised by that value's own schema node.
pub(super) fn failure(path: Trail<'_>, reason: impl Into<String>) -> CheckFailure {
    raised_by(path, path.to_path(), reason)
}

/// A failure reported at `path` but raised by the schema node of the value at `node`, which is
/// what ratcheting compares: a missing required property is its object's failure, kept only
/// while nothing in that object changes.
pub(super) fn raised_by(
    node: Trail<'_>,
    path: PropertyPath,
    reason: impl Into<String>,
) -> CheckFailure {
    CheckFailure {
        ratchet: Some(anchor(node)),
        ..CheckFailure::new(path, reason)
    }
}

/// What ratcheting compares for a failure of the value at `node`, before [`correlate`] knows
/// which lists correlate their items.
pub(super) fn anchor(node: Trail<'_>) -> Anchor {
    let steps = node.to_path().0.into_iter().map(|segment| match segment {
        Segment::Key(key) => Correlation::Key(key),
        Segment::Index(index) => Correlation::Item(index),
    });
    Anchor(steps.collect())
}

/// Marks the anchor's items of `x-kubernetes-list-type: map` lists as correlated by their map
/// keys, as the apiserver correlates them; items of other lists stay uncorrelated. `schema`
/// applies from the anchor's step `from` on.
pub(super) fn correlate(schema: &Json, anchor: &mut Anchor, from: usize) {
    let mut node = schema;
    for step in anchor.0.iter_mut().skip(from) {
        let Some(fields) = node.as_object() else {
            return;
        };
        let child = match step {
            Correlation::Key(key) => fields
                .get("properties")
                .and_then(|p| p.get(key.as_str()))
                .or_else(|| fields.get("additionalProperties").filter(|a| a.is_object())),
            Correlation::Item(index) => {
                let keys: Vec<String> = fields
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|k| Some(k.as_str()?.to_string()))
                    .collect();
                if fields.get("x-kubernetes-list-type").and_then(Json::as_str) != Some("map")
                    || keys.is_empty()
                {
                    // The whole list is compared: nothing further correlates.
                    return;
                }
                *step = Correlation::MapItem {
                    index: *index,
                    keys,
                };
                fields.get("items")
            }
            Correlation::MapItem { .. } => fields.get("items"),
        };
        let Some(child) = child else {
            return;
        };
        node = child;
    }
}

pub(super) fn check_enum(
    node: &Map<String, Json>,
    value: &Value,
    path: Trail<'_>,
    ctx: Ctx,
    failures: &mut Vec<CheckFailure>,
) {
    let Some(allowed) = node.get("enum").and_then(Json::as_array) else {
        return;
    };
    // A value with an unknown inside cannot be compared yet.
    let Ok(json) = value.to_json() else {
        return;
    };
    if allowed.iter().any(|a| json_eq(a, &json)) {
        return;
    }
    let list = allowed
        .iter()
        .map(Json::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    failures.push(failure(
        path,
        format!("expected one of [{list}], got {}", found(value, ctx.secret)),
    ));
}

pub(super) fn check_number(
    node: &Map<String, Json>,
    n: f64,
    value: &Value,
    path: Trail<'_>,
    ctx: Ctx,
    failures: &mut Vec<CheckFailure>,
) {
    let mut fail = |reason: String| failures.push(failure(path, reason));
    if let Some(min) = number(node, "minimum") {
        if flag(node, "exclusiveMinimum") {
            if n <= min {
                fail(format!(
                    "must be greater than {}, got {}",
                    json_number(min),
                    found(value, ctx.secret)
                ));
            }
        } else if n < min {
            fail(format!(
                "must be at least {}, got {}",
                json_number(min),
                found(value, ctx.secret)
            ));
        }
    }
    if let Some(max) = number(node, "maximum") {
        if flag(node, "exclusiveMaximum") {
            if n >= max {
                fail(format!(
                    "must be less than {}, got {}",
                    json_number(max),
                    found(value, ctx.secret)
                ));
            }
        } else if n > max {
            fail(format!(
                "must be at most {}, got {}",
                json_number(max),
                found(value, ctx.secret)
            ));
        }
    }
    if let Some(factor) = number(node, "multipleOf")
        && factor > 0.0
    {
        let quotient = n / factor;
        if (quotient - quotient.round()).abs() > 1e-9 * quotient.abs().max(1.0) {
            fail(format!(
                "must be a multiple of {}, got {}",
                json_number(factor),
                found(value, ctx.secret)
            ));
        }
    }
}

pub(super) fn check_string(
    node: &Map<String, Json>,
    s: &str,
    value: &Value,
    path: Trail<'_>,
    ctx: Ctx,
    failures: &mut Vec<CheckFailure>,
) {
    let mut fail = |reason: String| failures.push(failure(path, reason));
    let len = s.chars().count();
    if let Some(min) = count(node, "minLength")
        && len < min
    {
        fail(format!(
            "must be at least {} long, got {len}",
            plural(min, "character")
        ));
    }
    if let Some(max) = count(node, "maxLength")
        && len > max
    {
        fail(format!(
            "must be at most {} long, got {len}",
            plural(max, "character")
        ));
    }
    if let Some(pattern) = node.get("pattern").and_then(Json::as_str)
        && pattern_matches(pattern, s) == Some(false)
    {
        fail(format!(
            "must match {pattern}, got {}",
            found(value, ctx.secret)
        ));
    }
}

pub(super) fn check_array(
    node: &Map<String, Json>,
    items: &[Value],
    path: Trail<'_>,
    ctx: Ctx,
    failures: &mut Vec<CheckFailure>,
) {
    if let Some(min) = count(node, "minItems")
        && items.len() < min
    {
        failures.push(failure(
            path,
            format!(
                "must have at least {}, got {}",
                plural(min, "item"),
                items.len()
            ),
        ));
    }
    if let Some(max) = count(node, "maxItems")
        && items.len() > max
    {
        failures.push(failure(
            path,
            format!(
                "must have at most {}, got {}",
                plural(max, "item"),
                items.len()
            ),
        ));
    }
    if flag(node, "uniqueItems") {
        // Items with an unknown inside cannot be compared yet.
        let known: Vec<Option<Json>> = items.iter().map(|v| v.to_json().ok()).collect();
        for (j, later) in known.iter().enumerate() {
            let Some(later) = later else { continue };
            let first = known[..j]
                .iter()
                .position(|earlier| earlier.as_ref().is_some_and(|e| json_eq(e, later)));
            if let Some(i) = first {
                failures.push(raised_by(
                    path,
                    path.index(j).to_path(),
                    format!("items must be unique, but this one equals [{i}]"),
                ));
            }
        }
    }
    match node.get("items") {
        Some(Json::Array(tuple)) => {
            for (i, (item, schema)) in items.iter().zip(tuple).enumerate() {
                check(schema, item, path.index(i), ctx, failures);
            }
        }
        Some(schema) => {
            for (i, item) in items.iter().enumerate() {
                check(schema, item, path.index(i), ctx, failures);
            }
        }
        None => {}
    }
}

pub(super) fn check_object(
    node: &Map<String, Json>,
    fields: &crate::value::Object,
    path: Trail<'_>,
    ctx: Ctx,
    embedded: bool,
    failures: &mut Vec<CheckFailure>,
) {
    // At the root Kubernetes validates apiVersion, kind and metadata itself.
    let root = path.is_root();
    let skipped = |k: &str| root && MANAGED.contains(&k);
    let properties = node.get("properties").and_then(Json::as_object);
    let property = |k: &str| properties.and_then(|p| p.get(k));

    let present = fields.keys().filter(|k| !skipped(k)).count();
    if let Some(min) = count(node, "minProperties")
        && present < min
    {
        failures.push(failure(
            path,
            format!(
                "must have at least {}, got {present}",
                plural_properties(min)
            ),
        ));
    }
    if let Some(max) = count(node, "maxProperties")
        && present > max
    {
        failures.push(failure(
            path,
            format!(
                "must have at most {}, got {present}",
                plural_properties(max)
            ),
        ));
    }

    for name in node
        .get("required")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
    {
        // The apiserver fills in a property with a default before it validates.
        let defaulted = property(name).is_some_and(|p| p.get("default").is_some());
        if !skipped(name) && !fields.contains_key(name) && !defaulted {
            failures.push(raised_by(
                path,
                path.key(name).to_path(),
                "required by the schema, but not set",
            ));
        }
    }

    let additional = node.get("additionalProperties");
    let preserve = flag(node, "x-kubernetes-preserve-unknown-fields");
    let prunes = ctx.structural
        && !preserve
        && additional.is_none()
        && (properties.is_some() || type_of(node) == Some("object") || embedded);
    for (k, v) in fields {
        if skipped(k) {
            continue;
        }
        if let Some(schema) = property(k) {
            check(schema, v, path.key(k), ctx, failures);
            continue;
        }
        match additional {
            Some(Json::Bool(false)) => failures.push(raised_by(
                path,
                path.key(k).to_path(),
                format!(
                    "not in the schema ({}); additional properties are not allowed",
                    known(properties)
                ),
            )),
            Some(schema @ Json::Object(_)) => check(schema, v, path.key(k), ctx, failures),
            // Not a schema failure the apiserver could ratchet: the strict field validation
            // of every apply rejects the field, changed or not.
            _ if prunes && !(embedded && MANAGED.contains(&k.as_str())) => {
                failures.push(CheckFailure::new(
                    path.key(k).to_path(),
                    format!(
                        "not in the schema ({}); the apiserver would drop it",
                        known(properties)
                    ),
                ))
            }
            _ => {}
        }
    }
}

pub(super) fn check_combinators(
    node: &Map<String, Json>,
    value: &Value,
    path: Trail<'_>,
    ctx: Ctx,
    failures: &mut Vec<CheckFailure>,
) {
    // Branches only add value validations; they never decide what the apiserver keeps.
    let branch = Ctx {
        structural: false,
        ..ctx
    };
    let passes = |schema: &Json| {
        let mut found = Vec::new();
        check(schema, value, path, branch, &mut found);
        found.is_empty()
    };
    let branches = |key: &str| node.get(key).and_then(Json::as_array);

    let before = failures.len();
    for schema in branches("allOf").into_iter().flatten() {
        check(schema, value, path, branch, failures);
    }
    // The apiserver correlates nothing inside a branch: what fails there, even a property of
    // the branch, is the failure of the value the branch applies to. The anchor is built only
    // when a branch failed: this runs at every node of every Check, and allocates.
    if failures.len() > before {
        let at_node = anchor(path);
        for ratchet in failures[before..]
            .iter_mut()
            .filter_map(|f| f.ratchet.as_mut())
        {
            ratchet.clone_from(&at_node);
        }
    }
    if let Some(any) = branches("anyOf")
        && !any.is_empty()
        && !any.iter().any(passes)
    {
        failures.push(failure(
            path,
            "must match at least one schema in anyOf, but matches none",
        ));
    }
    if let Some(one) = branches("oneOf")
        && !one.is_empty()
    {
        let matching: Vec<usize> = (0..one.len()).filter(|&i| passes(&one[i])).collect();
        if matching.is_empty() {
            failures.push(failure(
                path,
                "must match exactly one schema in oneOf, but matches none",
            ));
        } else if matching.len() > 1 && !value.contains_unknown() {
            let which = matching
                .iter()
                .map(|i| format!("[{i}]"))
                .collect::<Vec<_>>()
                .join(", ");
            failures.push(failure(
                path,
                format!(
                    "must match exactly one schema in oneOf, but matches {} ({which})",
                    matching.len()
                ),
            ));
        }
    }
    if let Some(not) = node.get("not").filter(|n| n.is_object())
        && !value.contains_unknown()
        && passes(not)
    {
        failures.push(failure(path, "must not match the schema in not, but does"));
    }
}
