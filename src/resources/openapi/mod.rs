//! Validation of custom-resource values against a CRD version's `openAPIV3Schema`, so Check
//! reports problems before anything is sent to the cluster.
//!
//! The schema is the structural-schema JSON exactly as it appears in a CRD. [`validate`]
//! applies the value validations the apiserver applies (types, nullability, enums, bounds,
//! lengths, patterns, required properties) and reports the fields the apiserver would
//! silently drop (pruning); [`validate_object`] also evaluates the CRD's CEL rules
//! (`x-kubernetes-validations`). `format` is left to the apiserver's dry-run.
//! [`structural_problems`] explains why a schema is not structural.
//!
//! `values` checks a value against the schema, `cel` evaluates the rules, `structural` checks
//! the schema itself; what they share is here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use kube::core::cel::{CompiledSchema, compile_schema};

use regex::Regex;
use serde_json::{Map, Value as Json};

use crate::contract::{Anchor, CheckFailure, Correlation};
use crate::value::{PropertyPath, Segment, Trail, Value};

mod cel;
mod structural;
mod values;

pub use structural::structural_problems;

use cel::{cel_failures, has_cel_rules};
use values::{Ctx, check, correlate};

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
mod tests;
