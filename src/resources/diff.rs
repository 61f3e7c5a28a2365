//! Property-level diffs of inputs. Only fields the user set take part, so server defaults,
//! `status` and bookkeeping metadata can never cause a diff.

use crate::contract::{Change, ChangeKind};
use crate::value::{Object, PropertyPath, Trail, Value};

/// The changes of `news` against what the engine recorded: the old inputs, or, when there are
/// none (after an import), the old outputs.
pub fn changes_since(
    old_inputs: &Object,
    old_outputs: &Object,
    news: &Object,
    replace_paths: &[&str],
) -> Vec<Change> {
    if old_inputs.is_empty() {
        changes(old_outputs, news, true, replace_paths)
    } else {
        changes(old_inputs, news, false, replace_paths)
    }
}

/// The changes from `olds` to `news`. With `olds_are_outputs` (no recorded inputs, e.g. after
/// an import) fields only the old outputs have are not deletions: the user never set them.
fn changes(
    olds: &Object,
    news: &Object,
    olds_are_outputs: bool,
    replace_paths: &[&str],
) -> Vec<Change> {
    let mut found = Vec::new();
    let root = PropertyPath::root();
    diff_objects(olds, news, Trail::At(&root), olds_are_outputs, &mut found);
    if found.is_empty() {
        return found;
    }
    let replace_paths: Vec<PropertyPath> = replace_paths
        .iter()
        .map(|p| PropertyPath::dotted(p))
        .collect();
    for change in &mut found {
        change.replace = replace_paths
            .iter()
            .any(|r| change.path.starts_with(r) || r.starts_with(&change.path));
    }
    found
}

fn diff_objects(
    olds: &Object,
    news: &Object,
    path: Trail<'_>,
    olds_are_outputs: bool,
    found: &mut Vec<Change>,
) {
    for (key, new) in news {
        let at = path.key(key);
        match olds.get(key) {
            None => found.push(change(at.to_path(), ChangeKind::Add)),
            Some(old) => diff_values(old, new, at, olds_are_outputs, found),
        }
    }
    if !olds_are_outputs {
        for key in olds.keys().filter(|k| !news.contains_key(*k)) {
            found.push(change(path.key(key).to_path(), ChangeKind::Delete));
        }
    }
}

fn diff_values(
    old: &Value,
    new: &Value,
    path: Trail<'_>,
    olds_are_outputs: bool,
    found: &mut Vec<Change>,
) {
    match (unwrap_secret(old), unwrap_secret(new)) {
        // An unknown may turn out equal, but preview must say it may change.
        (_, Value::Unknown) => found.push(change(path.to_path(), ChangeKind::Update)),
        (Value::Object(o), Value::Object(n)) => diff_objects(o, n, path, olds_are_outputs, found),
        (Value::Array(o), Value::Array(n)) if o.len() == n.len() => {
            for (i, (o, n)) in o.iter().zip(n).enumerate() {
                diff_values(o, n, path.index(i), olds_are_outputs, found);
            }
        }
        (o, n) if !same(o, n) => found.push(change(path.to_path(), ChangeKind::Update)),
        _ => {}
    }
}

/// Equal as the apiserver would see them: numbers compare by value, secrets by content.
fn same(old: &Value, new: &Value) -> bool {
    match (unwrap_secret(old), unwrap_secret(new)) {
        (Value::Object(o), Value::Object(n)) => {
            o.len() == n.len() && o.iter().all(|(k, v)| n.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(o), Value::Array(n)) => {
            o.len() == n.len() && o.iter().zip(n).all(|(v, w)| same(v, w))
        }
        (o, n) => o == n,
    }
}

fn unwrap_secret(value: &Value) -> &Value {
    match value {
        Value::Secret(inner) => unwrap_secret(inner),
        other => other,
    }
}

fn change(path: PropertyPath, kind: ChangeKind) -> Change {
    Change {
        path,
        kind,
        replace: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: serde_json::Value) -> Object {
        match Value::from_json(&json) {
            Value::Object(o) => o,
            _ => unreachable!("test inputs are objects"),
        }
    }

    fn paths(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{}{:?}{}", c.path, c.kind, if c.replace { "!" } else { "" }))
            .collect()
    }

    #[test]
    fn one_field_update() {
        let old = object(serde_json::json!({"spec": {"image": "a", "replicas": 3}}));
        let new = object(serde_json::json!({"spec": {"image": "a", "replicas": 4}}));
        assert_eq!(
            paths(&changes(&old, &new, false, &["kind"])),
            ["spec.replicasUpdate"]
        );
    }

    #[test]
    fn identical_inputs_have_no_changes() {
        let old = object(serde_json::json!({"metadata": {"name": "x"}, "spec": {"list": [1, 2]}}));
        assert!(changes(&old, &old.clone(), false, &[]).is_empty());
    }

    #[test]
    fn replace_paths_mark_changes_below_and_above() {
        let old = object(serde_json::json!({"spec": {"group": "a.io", "names": {"plural": "xs"}}}));
        let new = object(
            serde_json::json!({"spec": {"group": "b.io", "names": {"plural": "xs", "kind": "X"}}}),
        );
        assert_eq!(
            paths(&changes(
                &old,
                &new,
                false,
                &["spec.group", "spec.names.plural"]
            )),
            [
                "spec.group Update!".replace(' ', ""),
                "spec.names.kindAdd".to_string()
            ]
        );
    }

    #[test]
    fn outputs_only_fields_are_not_deletions() {
        let old =
            object(serde_json::json!({"spec": {"replicas": 1, "defaulted": true}, "status": {}}));
        let new = object(serde_json::json!({"spec": {"replicas": 1}}));
        assert!(changes(&old, &new, true, &[]).is_empty());
        assert_eq!(
            paths(&changes(&old, &new, false, &[])),
            ["spec.defaultedDelete", "statusDelete"]
        );
    }

    #[test]
    fn unknowns_and_secrets() {
        let old = object(serde_json::json!({"spec": {"token": "s", "replicas": 1}}));
        let mut new = old.clone();
        let Some(Value::Object(spec)) = new.get_mut("spec") else {
            unreachable!()
        };
        spec.insert(
            "token".into(),
            Value::Secret(Box::new(Value::String("s".into()))),
        );
        spec.insert("replicas".into(), Value::Unknown);
        assert_eq!(
            paths(&changes(&old, &new, false, &[])),
            ["spec.replicasUpdate"]
        );
    }
}
