//! Validation ratcheting as Kubernetes does it (KEP-4008, on by default since 1.30, GA in
//! 1.33): on an update the apiserver does not fail a value the update left unchanged, so
//! tightening a CRD's schema never blocks the objects that already exist, while every changed
//! value is validated against the new schema. Check applies the same rule to the failures its
//! validation found, so that preview and plan agree with the apiserver.
//!
//! What an update must leave unchanged to keep a failure is the failure's [`Anchor`], which the
//! schema validation (`openapi`) sets the way the apiserver correlates old and new:
//! - a value validation (type, `enum`, bounds, lengths, `pattern`, `anyOf`/`oneOf`/`not`) is
//!   anchored at the value; `required`, `minProperties` and `maxProperties` at the object;
//!   whatever fails inside an `allOf`/`anyOf`/`oneOf`/`not` branch, a property's bound
//!   included, at the value the branch applies to;
//! - an item of an `x-kubernetes-list-type: map` list is correlated with the old item that has
//!   the same map keys, wherever it was; items of other lists are not correlated, so a failure
//!   inside one is kept only while the whole list is unchanged;
//! - a CEL rule is anchored at the node it is on, whatever its `fieldPath`; a rule that reads
//!   `oldSelf` (a transition rule) is never ratcheted.
//!
//! Never ratcheted: `apiVersion`, `kind`, `metadata`, fields the apiserver would drop (strict
//! field validation rejects them on every apply), every check that is not the CRD schema's, and
//! a replacement, which creates a new object.

use crate::contract::{Anchor, CheckFailure, Correlation};
use crate::value::{Object, PropertyPath, Segment, Value};

/// Drops the failures an update from `olds` to `news` may keep. `olds` is empty on create;
/// `replace_paths` are the fields whose change makes a new object.
pub fn ratchet(
    olds: &Object,
    news: &Object,
    replace_paths: &[&str],
    failures: &mut Vec<CheckFailure>,
) {
    // Most Checks find no failure that could be kept: then compare (and allocate) nothing.
    if olds.is_empty() || failures.iter().all(|f| f.ratchet.is_none()) {
        return;
    }
    let replaced = replace_paths.iter().any(|path| {
        let path = PropertyPath::dotted(path);
        !unchanged(at(olds, &path), at(news, &path), &[])
    });
    if replaced {
        return;
    }
    failures.retain(|failure| match &failure.ratchet {
        None => true,
        // Both sides are converted to the same version, so the apiserver cannot tell.
        Some(Anchor(steps))
            if matches!(steps.first(), Some(Correlation::Key(k)) if k == "apiVersion" || k == "kind") =>
        {
            true
        }
        Some(Anchor(steps)) => match steps.split_first() {
            None => !same_fields(olds, news),
            Some((Correlation::Key(key), rest)) => !unchanged(olds.get(key), news.get(key), rest),
            Some(_) => true,
        },
    });
}

fn at<'a>(object: &'a Object, path: &PropertyPath) -> Option<&'a Value> {
    match path.0.split_first()? {
        (Segment::Key(key), rest) => object.get(key)?.get(rest),
        (Segment::Index(_), _) => None,
    }
}

/// Whether the value `steps` lead to is the same in `old` and `new`.
fn unchanged(old: Option<&Value>, new: Option<&Value>, steps: &[Correlation]) -> bool {
    match (old.map(bare), new.map(bare), steps.split_first()) {
        // Absent from both: the same (the schema's default, if it has one, on both sides).
        (None, None, _) => true,
        (Some(old), Some(new), None) => same(old, new),
        (
            Some(Value::Object(old)),
            Some(Value::Object(new)),
            Some((Correlation::Key(key), rest)),
        ) => unchanged(old.get(key), new.get(key), rest),
        (
            Some(Value::Array(old)),
            Some(Value::Array(new)),
            Some((Correlation::MapItem { index, keys }, rest)),
        ) => {
            let Some(item) = new.get(*index) else {
                return false;
            };
            let Some(key) = map_key(item, keys) else {
                return false;
            };
            // The first old item with the same keys, as the apiserver picks it.
            let old_item = old.iter().find(|o| {
                map_key(o, keys).is_some_and(|k| k.iter().zip(&key).all(|(a, b)| same(a, b)))
            });
            unchanged(old_item, Some(item), rest)
        }
        (Some(old), Some(new), Some((Correlation::Item(_), _))) => same(old, new),
        _ => false,
    }
}

/// The values of an item's map keys; `None` unless every one is a scalar.
fn map_key<'a>(item: &'a Value, keys: &[String]) -> Option<Vec<&'a Value>> {
    let Value::Object(fields) = bare(item) else {
        return None;
    };
    keys.iter()
        .map(|k| {
            fields
                .get(k)
                .map(bare)
                .filter(|v| matches!(v, Value::Bool(_) | Value::Number(_) | Value::String(_)))
        })
        .collect()
}

/// Equality of what the apiserver would see: secrets are their values, an unknown is never
/// the same as anything.
fn same(a: &Value, b: &Value) -> bool {
    match (bare(a), bare(b)) {
        (Value::Unknown, _) | (_, Value::Unknown) => false,
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
        }
        (Value::Object(a), Value::Object(b)) => same_fields(a, b),
        (a, b) => a == b,
    }
}

fn same_fields(a: &Object, b: &Object) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
}

fn bare(value: &Value) -> &Value {
    match value {
        Value::Secret(inner) => bare(inner),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::resources::openapi;

    /// A CRD's schema with `spec` as given.
    fn schema(spec: Json) -> Json {
        json!({"type": "object", "properties": {"spec": spec}})
    }

    fn object(json: Json) -> Object {
        match Value::from_json(&json) {
            Value::Object(fields) => fields,
            _ => Object::new(),
        }
    }

    /// The failures Check reports for an update from `old` to `new` (a create when `old` is
    /// empty).
    fn reported(schema: &Json, old: Json, new: Json) -> Vec<String> {
        let (olds, news) = (object(old), object(new));
        let mut failures = Vec::new();
        openapi::validate_object(schema, &Value::Object(news.clone()), &mut failures);
        ratchet(&olds, &news, &["metadata.name"], &mut failures);
        failures.iter().map(ToString::to_string).collect()
    }

    fn replicas(replicas: u32, image: &str) -> Json {
        json!({"metadata": {"name": "a"}, "spec": {"replicas": replicas, "image": image}})
    }

    fn tightened() -> Json {
        schema(json!({"type": "object", "properties": {
            "replicas": {"type": "integer", "maximum": 3},
            "image": {"type": "string"},
        }}))
    }

    #[test]
    fn an_unchanged_value_keeps_its_failure_and_a_changed_one_is_validated() {
        let schema = tightened();
        let too_many = "spec.replicas: must be at most 3, got 5";
        assert_eq!(
            reported(&schema, json!({}), replicas(5, "v1")),
            [too_many],
            "a create validates everything"
        );
        assert!(reported(&schema, replicas(5, "v1"), replicas(5, "v1")).is_empty());
        assert!(
            reported(&schema, replicas(5, "v1"), replicas(5, "v2")).is_empty(),
            "another field changed"
        );
        assert_eq!(
            reported(&schema, replicas(5, "v1"), replicas(6, "v1")),
            ["spec.replicas: must be at most 3, got 6"]
        );
        let mut renamed = replicas(5, "v1");
        renamed["metadata"]["name"] = json!("b");
        assert_eq!(
            reported(&schema, replicas(5, "v1"), renamed),
            [too_many],
            "a replacement is a create"
        );
    }

    #[test]
    fn secrets_are_compared_by_their_value() {
        let schema = tightened();
        let mut secret = object(replicas(5, "v1"));
        if let Some(Value::Object(spec)) = secret.get_mut("spec") {
            spec.insert(
                "replicas".into(),
                Value::Secret(Box::new(Value::Number(5.0))),
            );
        }
        let news = object(replicas(5, "v2"));
        let mut failures = Vec::new();
        openapi::validate_object(&schema, &Value::Object(news.clone()), &mut failures);
        ratchet(&secret, &news, &[], &mut failures);
        assert_eq!(failures, []);
    }

    #[test]
    fn a_missing_required_property_is_its_objects_failure() {
        let schema = schema(json!({
            "type": "object",
            "required": ["model"],
            "properties": {"model": {"type": "string"}, "replicas": {"type": "integer"}},
        }));
        let spec =
            |replicas: u32| json!({"metadata": {"name": "a"}, "spec": {"replicas": replicas}});
        assert!(reported(&schema, spec(1), spec(1)).is_empty());
        let mut labelled = spec(1);
        labelled["metadata"]["labels"] = json!({"team": "a"});
        assert!(
            reported(&schema, spec(1), labelled).is_empty(),
            "the object holding the property did not change"
        );
        assert_eq!(
            reported(&schema, spec(1), spec(2)),
            ["spec.model: required by the schema, but not set"],
            "a sibling changed: the object is validated"
        );
    }

    #[test]
    fn items_of_atomic_lists_are_not_correlated_one_by_one() {
        let schema = schema(json!({"type": "object", "properties": {
            "hosts": {"type": "array", "items": {"type": "string", "maxLength": 3}},
            "image": {"type": "string"},
        }}));
        let spec = |hosts: Json, image: &str| json!({"metadata": {"name": "a"}, "spec": {"hosts": hosts, "image": image}});
        assert!(
            reported(
                &schema,
                spec(json!(["long", "x"]), "v1"),
                spec(json!(["long", "x"]), "v2")
            )
            .is_empty()
        );
        assert_eq!(
            reported(
                &schema,
                spec(json!(["long", "x"]), "v1"),
                spec(json!(["long", "y"]), "v1")
            ),
            ["spec.hosts[0]: must be at most 3 characters long, got 4"],
            "the list changed, so each item is validated"
        );
    }

    #[test]
    fn items_of_map_lists_are_correlated_by_their_keys() {
        let schema = schema(json!({"type": "object", "properties": {"ports": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"},
                "port": {"type": "integer", "maximum": 1024},
            }},
        }}}));
        let spec = |ports: Json| json!({"metadata": {"name": "a"}, "spec": {"ports": ports}});
        let old = spec(json!([{"name": "web", "port": 8080}, {"name": "ssh", "port": 22}]));
        let reordered = spec(json!([{"name": "ssh", "port": 23}, {"name": "web", "port": 8080}]));
        assert!(
            reported(&schema, old.clone(), reordered).is_empty(),
            "web is unchanged wherever it is; ssh changed to a valid port"
        );
        let changed = spec(json!([{"name": "web", "port": 8081}, {"name": "ssh", "port": 22}]));
        assert_eq!(
            reported(&schema, old.clone(), changed),
            ["spec.ports[0].port: must be at most 1024, got 8081"]
        );
        let added = spec(json!([{"name": "web", "port": 8080}, {"name": "db", "port": 5432}]));
        assert_eq!(
            reported(&schema, old, added),
            ["spec.ports[1].port: must be at most 1024, got 5432"],
            "a new item has no old value"
        );
    }

    #[test]
    fn a_combinator_is_ratcheted_at_the_value_it_applies_to() {
        // As the apiserver does: nothing inside a branch correlates, not even a property.
        let bounded_in_all_of = schema(json!({
            "type": "object",
            "properties": {"replicas": {"type": "integer"}, "image": {"type": "string"}},
            "allOf": [{"properties": {"replicas": {"maximum": 3}}}],
        }));
        let mut labelled = replicas(5, "v1");
        labelled["metadata"]["labels"] = json!({"team": "a"});
        assert!(reported(&bounded_in_all_of, replicas(5, "v1"), labelled).is_empty());
        assert_eq!(
            reported(&bounded_in_all_of, replicas(5, "v1"), replicas(5, "v2")),
            ["spec.replicas: must be at most 3, got 5"],
            "spec changed"
        );
        let image_any_of = schema(json!({"type": "object", "properties": {
            "replicas": {"type": "integer"},
            "image": {"type": "string", "anyOf": [{"pattern": "^y"}]},
        }}));
        assert!(reported(&image_any_of, replicas(5, "v1"), replicas(6, "v1")).is_empty());
        assert_eq!(
            reported(&image_any_of, replicas(5, "v1"), replicas(5, "v2")),
            ["spec.image: must match at least one schema in anyOf, but matches none"]
        );
    }

    #[test]
    fn a_cel_rule_is_ratcheted_at_its_node_unless_it_reads_old_self() {
        let rule = |rule: Json| {
            schema(json!({
                "type": "object",
                "properties": {"replicas": {"type": "integer"}, "image": {"type": "string"}},
                "x-kubernetes-validations": [rule],
            }))
        };
        // Reported at spec.replicas, but the rule is spec's: an image change is a change.
        let at_most_three = rule(json!({
            "rule": "self.replicas <= 3",
            "message": "at most 3 replicas",
            "fieldPath": ".replicas",
        }));
        assert!(reported(&at_most_three, replicas(5, "v1"), replicas(5, "v1")).is_empty());
        assert_eq!(
            reported(&at_most_three, replicas(5, "v1"), replicas(5, "v2")),
            ["spec.replicas: at most 3 replicas"]
        );
        let transition = rule(json!({
            "rule": "oldSelf == null && self.replicas <= 3",
            "message": "at most 3 replicas on create",
            "optionalOldSelf": true,
        }));
        assert_eq!(
            reported(&transition, replicas(5, "v1"), replicas(5, "v1")),
            ["spec: at most 3 replicas on create"],
            "a transition rule is never ratcheted"
        );
    }

    #[test]
    fn fields_the_apiserver_would_drop_are_never_ratcheted() {
        let schema = schema(json!({"type": "object", "properties": {"image": {"type": "string"}}}));
        let spec = json!({"metadata": {"name": "a"}, "spec": {"image": "v1", "gpus": 1}});
        assert_eq!(
            reported(&schema, spec.clone(), spec).len(),
            1,
            "strict field validation rejects the field on every apply"
        );
    }
}
