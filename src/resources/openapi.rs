//! Validation of custom-resource values against a CRD version's `openAPIV3Schema`, so Check
//! reports problems before anything is sent to the cluster.
//!
//! The schema is the structural-schema JSON exactly as it appears in a CRD. [`validate`]
//! applies the value validations the apiserver applies (types, nullability, enums, bounds,
//! lengths, patterns, required properties) and reports the fields the apiserver would
//! silently drop (pruning); [`validate_object`] also evaluates the CRD's CEL rules
//! (`x-kubernetes-validations`). `format` is left to the apiserver's dry-run.
//! [`structural_problems`] explains why a schema is not structural.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use kube::core::cel::{CompiledSchema, compile_schema};

use regex::Regex;
use serde_json::{Map, Value as Json};

use crate::contract::{Anchor, CheckFailure, Correlation};
use crate::value::{PropertyPath, Segment, Trail, Value};

/// Found values are shown as JSON of at most this many characters.
const SHOWN_CHARS: usize = 40;
/// The root properties Kubernetes validates itself; also kept in embedded resources.
const MANAGED: [&str; 3] = ["apiVersion", "kind", "metadata"];
/// Listing more known property names than this would bury the message.
const KNOWN_SHOWN: usize = 12;

/// Checks `value` (found at `path`) against `schema`, pushing one failure per problem.
pub fn validate(
    schema: &serde_json::Value,
    value: &Value,
    path: &PropertyPath,
    failures: &mut Vec<CheckFailure>,
) {
    let ctx = Ctx {
        secret: false,
        structural: true,
    };
    let before = failures.len();
    check(schema, value, Trail::At(path), ctx, failures);
    for anchor in failures[before..]
        .iter_mut()
        .filter_map(|f| f.ratchet.as_mut())
    {
        correlate(schema, anchor, path.0.len());
    }
}

/// Checks a whole custom resource against its CRD version's schema: types and constraints
/// first, then, when those hold and every value is known, the CEL rules.
pub fn validate_object(
    schema: &serde_json::Value,
    object: &Value,
    failures: &mut Vec<CheckFailure>,
) {
    let before = failures.len();
    validate(schema, object, &PropertyPath::root(), failures);
    // CEL rules assume a well-typed object, and need every value known.
    if failures.len() == before
        && has_cel_rules(schema)
        && let Ok(json) = object.to_json()
    {
        failures.extend(cel_failures(schema, &json));
    }
}

/// Whether the schema has any `x-kubernetes-validations` rule. Most CRDs have none, and then
/// Check needs neither a JSON copy of the object nor the CEL evaluator.
fn has_cel_rules(schema: &serde_json::Value) -> bool {
    match schema {
        serde_json::Value::Object(fields) => {
            fields.contains_key("x-kubernetes-validations") || fields.values().any(has_cel_rules)
        }
        serde_json::Value::Array(items) => items.iter().any(has_cel_rules),
        _ => false,
    }
}

/// The CRD's `x-kubernetes-validations` (CEL) rules this object breaks, evaluated locally the
/// way the apiserver does (defaults applied first). Rules the local evaluator cannot run are
/// left to the apiserver's dry-run rather than blocking the user.
fn cel_failures(schema: &serde_json::Value, object: &serde_json::Value) -> Vec<CheckFailure> {
    use kube::core::cel::{ErrorKind, Validator};
    // Building a validator registers every CEL function: do it once.
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    let compiled = compiled(schema);
    let Err(errors) = VALIDATOR
        .get_or_init(Validator::new)
        .validate_compiled(&compiled, object, None)
    else {
        return Vec::new();
    };
    errors
        .into_vec()
        .into_iter()
        .filter(|e| {
            matches!(
                e.kind,
                ErrorKind::ValidationFailure | ErrorKind::InvalidResult
            )
        })
        .map(|e| {
            let path = if e.field_path.is_empty() {
                PropertyPath::root()
            } else {
                PropertyPath::dotted(&e.field_path)
            };
            // The rule's message is written for users (Kubernetes falls back to "failed
            // rule: <rule>" without one); its source is for whoever debugs the CRD.
            tracing::debug!(path = %path, rule = %e.rule, "CEL rule failed");
            let mut ratchet = rule_anchor(&compiled, &e);
            if let Some(anchor) = &mut ratchet {
                correlate(schema, anchor, 0);
            }
            CheckFailure {
                ratchet,
                ..CheckFailure::new(path, e.message)
            }
        })
        .collect()
}

/// What ratcheting compares for a CEL rule's failure: the schema node the rule is on (its
/// `fieldPath` only moves where the failure is reported), found by retracing the evaluator's
/// walk to the reported path. `None` for a transition rule (one that reads `oldSelf`): the
/// apiserver never ratchets those.
fn rule_anchor(
    compiled: &CompiledSchema,
    failure: &kube::core::cel::ValidationError,
) -> Option<Anchor> {
    find_rule(compiled, "", &mut Vec::new(), failure).flatten()
}

/// `Some(anchor)` once the failed rule is found on `node` or below it. `node` sits at `path`
/// (spelled as the evaluator spells paths), reached by `steps`. Rules are never inside an
/// `allOf`/`anyOf`/`oneOf` branch: the apiserver rejects such a CRD as not structural.
fn find_rule(
    node: &CompiledSchema,
    path: &str,
    steps: &mut Vec<Correlation>,
    failure: &kube::core::cel::ValidationError,
) -> Option<Option<Anchor>> {
    let reported = failure.field_path.as_str();
    let rest = reported.strip_prefix(path)?;
    let mut descend = |child: &CompiledSchema, child_path: String, step: Correlation| {
        steps.push(step);
        let found = find_rule(child, &child_path, steps, failure);
        steps.pop();
        found
    };
    // A rule's own node is the deepest one on the way to where it reported.
    let (separator, keyed) = match path {
        "" => ("", Some(rest)),
        _ => (".", rest.strip_prefix('.')),
    };
    let ends_key = |after: &str| after.is_empty() || after.starts_with(['.', '[']);
    if let Some(keyed) = keyed {
        for (name, child) in &node.properties {
            if keyed.strip_prefix(name.as_str()).is_some_and(ends_key)
                && let Some(found) = descend(
                    child,
                    format!("{path}{separator}{name}"),
                    Correlation::Key(name.clone()),
                )
            {
                return Some(found);
            }
        }
        if let Some(additional) = node.additional_properties.as_deref()
            && !node.preserve_unknown_fields
        {
            // A map key may itself hold `.` or `[`: try each place the key could end.
            let ends = keyed.match_indices(['.', '[']).map(|(i, _)| i);
            for end in ends.chain([keyed.len()]) {
                let key = &keyed[..end];
                if !key.is_empty()
                    && !node.properties.contains_key(key)
                    && let Some(found) = descend(
                        additional,
                        format!("{path}{separator}{key}"),
                        Correlation::Key(key.to_string()),
                    )
                {
                    return Some(found);
                }
            }
        }
    }
    if let Some(items) = node.items.as_deref()
        && let Some((index, _)) = rest.strip_prefix('[').and_then(|r| r.split_once(']'))
        && let Ok(index) = index.parse::<usize>()
        && let Some(found) = descend(items, format!("{path}[{index}]"), Correlation::Item(index))
    {
        return Some(found);
    }
    let rule = node.validations.iter().flatten().find(|compiled| {
        let rule = &compiled.rule;
        rule.rule == failure.rule
            && match rule.field_path.as_deref() {
                None => reported == path,
                Some(field) if field.starts_with('.') => reported == format!("{path}{field}"),
                Some(field) => reported == format!("{path}{separator}{field}"),
            }
    })?;
    Some((!rule.is_transition_rule).then(|| Anchor(steps.clone())))
}

/// The schema with its CEL rules compiled. Compiling costs far more than evaluating, and a
/// deployment checks many objects of few CRDs, so compiled schemas are kept by their JSON text
/// (a CRD changed in the same deployment is a different text).
fn compiled(schema: &serde_json::Value) -> Arc<CompiledSchema> {
    /// More distinct schemas than this in one provider is unusual; past it, start over.
    const KEPT: usize = 64;
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<CompiledSchema>>>> = OnceLock::new();
    let text = schema.to_string();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(found) = cache.get(&text) {
        return found.clone();
    }
    if cache.len() >= KEPT {
        cache.clear();
    }
    cache
        .entry(text)
        .or_insert_with(|| Arc::new(compile_schema(schema)))
        .clone()
}

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

/// How the value being checked was reached.
#[derive(Clone, Copy)]
struct Ctx {
    /// The value is (inside) a secret: messages name only its type.
    secret: bool,
    /// Checking the structural part of the schema, not an `allOf`/`anyOf`/`oneOf`/`not`
    /// branch: only the structural part decides which fields the apiserver keeps.
    structural: bool,
}

fn check(
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
fn resolve(value: &Value, secret: bool) -> Option<(&Value, bool)> {
    match value {
        Value::Unknown | Value::ResourceRef { id: None, .. } => None,
        Value::ResourceRef { id: Some(id), .. } => resolve(id, secret),
        Value::Secret(inner) => resolve(inner, true),
        other => Some((other, secret)),
    }
}

/// A failure of the value at `path`, raised by that value's own schema node.
fn failure(path: Trail<'_>, reason: impl Into<String>) -> CheckFailure {
    raised_by(path, path.to_path(), reason)
}

/// A failure reported at `path` but raised by the schema node of the value at `node`, which is
/// what ratcheting compares: a missing required property is its object's failure, kept only
/// while nothing in that object changes.
fn raised_by(node: Trail<'_>, path: PropertyPath, reason: impl Into<String>) -> CheckFailure {
    CheckFailure {
        ratchet: Some(anchor(node)),
        ..CheckFailure::new(path, reason)
    }
}

/// What ratcheting compares for a failure of the value at `node`, before [`correlate`] knows
/// which lists correlate their items.
fn anchor(node: Trail<'_>) -> Anchor {
    let steps = node.to_path().0.into_iter().map(|segment| match segment {
        Segment::Key(key) => Correlation::Key(key),
        Segment::Index(index) => Correlation::Item(index),
    });
    Anchor(steps.collect())
}

/// Marks the anchor's items of `x-kubernetes-list-type: map` lists as correlated by their map
/// keys, as the apiserver correlates them; items of other lists stay uncorrelated. `schema`
/// applies from the anchor's step `from` on.
fn correlate(schema: &Json, anchor: &mut Anchor, from: usize) {
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

fn check_enum(
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

fn check_number(
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

fn check_string(
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

fn check_array(
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

fn check_object(
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

fn check_combinators(
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

fn walk_structure(
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

fn walk_child(schema: &Json, path: PropertyPath, problems: &mut Vec<CheckFailure>) {
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

/// The schema's non-empty `type`, if it names one.
fn type_of(node: &Map<String, Json>) -> Option<&str> {
    node.get("type")
        .and_then(Json::as_str)
        .filter(|t| !t.is_empty())
}

fn flag(node: &Map<String, Json>, key: &str) -> bool {
    node.get(key).and_then(Json::as_bool) == Some(true)
}

/// A numeric keyword's value (shown with [`json_number`], so a bound published as `0.0`
/// reads `0`).
fn number(node: &Map<String, Json>, key: &str) -> Option<f64> {
    node.get(key)?.as_f64()
}

/// A non-negative integer keyword such as `maxLength`.
fn count(node: &Map<String, Json>, key: &str) -> Option<usize> {
    let json = node.get(key)?;
    json.as_u64()
        .or_else(|| {
            json.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        })
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn plural_properties(n: usize) -> String {
    if n == 1 {
        "1 property".to_string()
    } else {
        format!("{n} properties")
    }
}

fn is_integer(value: &Value) -> bool {
    matches!(value, Value::Number(n) if n.is_finite() && n.fract() == 0.0)
}

fn type_matches(ty: &str, value: &Value) -> bool {
    match ty {
        "object" => matches!(value, Value::Object(_)),
        "array" => matches!(value, Value::Array(_)),
        "string" => matches!(value, Value::String(_)),
        "integer" => is_integer(value),
        "number" => matches!(value, Value::Number(_)),
        "boolean" => matches!(value, Value::Bool(_)),
        // A type Kubernetes does not know; the apiserver rejects such CRDs itself.
        _ => true,
    }
}

/// The found value with its type, e.g. `string "three"`, or `a secret string`.
fn describe(value: &Value, secret: bool) -> String {
    match value {
        Value::Null => "null".to_string(),
        _ if secret => format!("a secret {}", value.type_name()),
        _ => format!("{} {}", value.type_name(), shown(value)),
    }
}

/// The found value as JSON, e.g. `"c"` or `12`, or `a secret string`.
fn found(value: &Value, secret: bool) -> String {
    if secret {
        format!("a secret {}", value.type_name())
    } else {
        shown(value)
    }
}

/// The value as short JSON, with nested secrets and unknowns replaced by placeholders.
fn shown(value: &Value) -> String {
    truncate(&display_json(value).to_string())
}

fn display_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => json_number(*n),
        Value::String(s) => Json::String(s.clone()),
        Value::Array(items) => Json::Array(items.iter().map(display_json).collect()),
        Value::Object(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), display_json(v)))
                .collect(),
        ),
        Value::Secret(_) => Json::String("[secret]".to_string()),
        Value::ResourceRef { id: Some(id), .. } => display_json(id),
        Value::Unknown | Value::ResourceRef { id: None, .. } => {
            Json::String("[unknown]".to_string())
        }
    }
}

/// Integral numbers as JSON integers (`12`, not `12.0`), as the apiserver receives them.
fn json_number(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= SHOWN_CHARS {
        return text.to_string();
    }
    let head: String = text.chars().take(SHOWN_CHARS - 3).collect();
    format!("{head}...")
}

/// JSON equality with numbers compared by value, so `1` equals `1.0`.
fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, a)| y.get(k).is_some_and(|b| json_eq(a, b)))
        }
        _ => a == b,
    }
}

/// The names a pruning message offers instead of the unknown one.
fn known(properties: Option<&Map<String, Json>>) -> String {
    let mut names: Vec<&str> = properties
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    if names.is_empty() {
        return "it lists no properties".to_string();
    }
    names.sort_unstable();
    let more = names.len().saturating_sub(KNOWN_SHOWN);
    names.truncate(KNOWN_SHOWN);
    let mut list = names.join(", ");
    if more > 0 {
        list.push_str(&format!(", and {more} more"));
    }
    format!("known: {list}")
}

/// Whether `text` matches `pattern`; `None` when the pattern does not compile (the apiserver
/// rejects such CRDs). Compiled patterns are cached, as every item of a list uses the same.
fn pattern_matches(pattern: &str, text: &str) -> Option<bool> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Regex>>>> = OnceLock::new();
    let regex = {
        let mut cache = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= 256 && !cache.contains_key(pattern) {
            cache.clear();
        }
        match cache.get(pattern) {
            Some(compiled) => compiled.clone(),
            None => cache
                .entry(pattern.to_string())
                .or_insert_with(|| Regex::new(pattern).ok())
                .clone(),
        }
    };
    regex.map(|r| r.is_match(text))
}

#[cfg(test)]
mod tests {
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
}
