//! The CRD's CEL rules (`x-kubernetes-validations`), evaluated with kube's CEL support.

use super::*;

/// Whether the schema has any `x-kubernetes-validations` rule. Most CRDs have none, and then
/// Check needs neither a JSON copy of the object nor the CEL evaluator.
pub(super) fn has_cel_rules(schema: &serde_json::Value) -> bool {
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
pub(super) fn cel_failures(
    schema: &serde_json::Value,
    object: &serde_json::Value,
) -> Vec<CheckFailure> {
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
pub(super) fn rule_anchor(
    compiled: &CompiledSchema,
    failure: &kube::core::cel::ValidationError,
) -> Option<Anchor> {
    find_rule(compiled, "", &mut Vec::new(), failure).flatten()
}

/// `Some(anchor)` once the failed rule is found on `node` or below it. `node` sits at `path`
/// (spelled as the evaluator spells paths), reached by `steps`. Rules are never inside an
/// `allOf`/`anyOf`/`oneOf` branch: the apiserver rejects such a CRD as not structural.
pub(super) fn find_rule(
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
pub(super) fn compiled(schema: &serde_json::Value) -> Arc<CompiledSchema> {
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
