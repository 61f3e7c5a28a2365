//! What a resource may touch: only the object it created. A create records the resource's
//! identity on the object (an annotation), so the rerun of an interrupted create recognises
//! its own object and adopts it; any other existing object makes the create fail, unless the
//! program opts in to taking it over. Deletes name the object by its uid, so an object that
//! took the name since is never deleted.

use serde_json::Value as Json;

use crate::cluster::{ApplyOptions, Created, ObjectRef, Propagation};
use crate::contract::{CheckFailure, Context, ResourceError};
use crate::value::{Object, PropertyPath};

use super::object::annotation;

/// Names the resource that created the object (its Pulumi URN).
pub const OWNER_ANNOTATION: &str = "aiservice.example.com/owner";
/// `"true"` on a resource: its create takes over an existing object of the same name.
pub const ADOPT_ANNOTATION: &str = "aiservice.example.com/adopt";
/// `foreground`, `background` (the default) or `orphan`: how a delete treats dependents.
pub const PROPAGATION_ANNOTATION: &str = "aiservice.example.com/deletion-propagation";
/// pulumi-kubernetes' spelling of the same choice, accepted so programs keep working.
const PULUMI_PROPAGATION_ANNOTATION: &str = "pulumi.com/deletionPropagationPolicy";

/// Records the creating resource on the object about to be written. Every write carries it,
/// so a server-side apply never drops it.
pub fn stamp(desired: &mut Json, owner: Option<&str>) {
    let Some(owner) = owner else {
        return;
    };
    let metadata = &mut desired["metadata"];
    if !metadata["annotations"].is_object() {
        metadata["annotations"] = Json::Object(Default::default());
    }
    metadata["annotations"][OWNER_ANNOTATION] = Json::String(owner.to_string());
}

/// Creates `desired` as `object` (a dry-run in preview). An existing object is taken only when
/// this resource created it (an interrupted create) or the program opted in with
/// [`ADOPT_ANNOTATION`]; then the create continues as a server-side apply. Returns the object
/// as the apiserver stored (or would store) it.
pub async fn create_owned(
    ctx: &Context,
    object: &ObjectRef,
    desired: &Json,
    options: ApplyOptions,
    import_id: impl FnOnce() -> String,
) -> Result<Json, ResourceError> {
    let live = match ctx.kube.create(object, desired, options.dry_run).await? {
        Created::New(created) => return Ok(created),
        Created::Exists(live) => live,
    };
    if created_by(&live, ctx.owner.as_deref()) {
        ctx.progress.info(&format!(
            "{} exists from an earlier, interrupted create of this resource: taking it up",
            object.describe()
        ));
        if !options.dry_run {
            ctx.kube.claim_created_fields(object, &live).await?;
        }
    } else if desired["metadata"]["annotations"][ADOPT_ANNOTATION] == "true" {
        ctx.progress.warn(&format!(
            "{} already exists ({}): taking it over, as {ADOPT_ANNOTATION} asks",
            object.describe(),
            origin(&live)
        ));
    } else {
        return Err(ResourceError::AlreadyExists {
            what: object.describe(),
            origin: origin(&live),
            import_id: import_id(),
            adopt: ADOPT_ANNOTATION,
        });
    }
    Ok(ctx.kube.apply(object, desired, options).await?)
}

/// Whether the live object records `owner` (a resource's identity) as its creator. Without an
/// identity nothing is one's own.
pub fn created_by(live: &Json, owner: Option<&str>) -> bool {
    let creator = live["metadata"]["annotations"][OWNER_ANNOTATION].as_str();
    creator.is_some() && creator == owner
}

/// Who made an existing object and who manages its fields, for the user.
fn origin(live: &Json) -> String {
    let creator = match live["metadata"]["annotations"][OWNER_ANNOTATION].as_str() {
        Some(owner) => format!("created by {owner}"),
        // Made by kubectl, another tool, or a Terraform configuration (which has no identity
        // to record).
        None => "no creator recorded".to_string(),
    };
    let managers: Vec<String> = live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            format!(
                "{} ({})",
                m["manager"].as_str().unwrap_or("unnamed"),
                m["operation"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if managers.is_empty() {
        creator
    } else {
        format!("{creator}; field managers: {}", managers.join(", "))
    }
}

/// The propagation the recorded object asks for; background when it asks for none.
pub fn propagation(recorded: &Object) -> Propagation {
    annotation_value(recorded)
        .and_then(|(_, text)| Propagation::parse(text))
        .unwrap_or_default()
}

fn annotation_value(properties: &Object) -> Option<(&'static str, &str)> {
    [PROPAGATION_ANNOTATION, PULUMI_PROPAGATION_ANNOTATION]
        .into_iter()
        .find_map(|key| Some((key, annotation(properties, key)?)))
}

/// A propagation annotation with a value no delete understands fails Check, not the destroy.
pub fn check_propagation(inputs: &Object, failures: &mut Vec<CheckFailure>) {
    if let Some((key, text)) = annotation_value(inputs)
        && Propagation::parse(text).is_none()
    {
        failures.push(CheckFailure::new(
            PropertyPath::dotted("metadata").key("annotations").key(key),
            format!("expected foreground, background or orphan, got {text:?}"),
        ));
    }
}

/// The uid the recorded object had, which a delete must match.
pub fn recorded_uid(recorded: &Object) -> Option<String> {
    recorded.get("metadata")?.get_str("uid").map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn object(json: Json) -> Object {
        match Value::from_json(&json) {
            Value::Object(o) => o,
            _ => unreachable!("an object literal"),
        }
    }

    #[test]
    fn every_write_names_the_creating_resource() {
        let mut desired = serde_json::json!({"metadata": {"name": "a"}});
        stamp(&mut desired, Some("urn:pulumi:dev::p::t::a"));
        assert_eq!(
            desired["metadata"]["annotations"][OWNER_ANNOTATION],
            "urn:pulumi:dev::p::t::a"
        );
        let mut untouched = serde_json::json!({"metadata": {"name": "a"}});
        stamp(&mut untouched, None);
        assert_eq!(untouched, serde_json::json!({"metadata": {"name": "a"}}));
    }

    #[test]
    fn only_the_recorded_creator_owns_an_object() {
        let live = serde_json::json!({"metadata": {"annotations": {OWNER_ANNOTATION: "urn:a"}}});
        assert!(created_by(&live, Some("urn:a")));
        assert!(!created_by(&live, Some("urn:b")));
        // Terraform has no identity: nothing is its own, not even an unstamped object.
        assert!(!created_by(&live, None));
        assert!(!created_by(&serde_json::json!({"metadata": {}}), None));
    }

    #[test]
    fn the_origin_names_the_creator_and_the_field_managers() {
        let live = serde_json::json!({"metadata": {
            "annotations": {OWNER_ANNOTATION: "urn:pulumi:a::p::t::x"},
            "managedFields": [{"manager": "pulumi-aiservice", "operation": "Apply"},
                              {"manager": "kubectl-edit", "operation": "Update"}],
        }});
        assert_eq!(
            origin(&live),
            "created by urn:pulumi:a::p::t::x; field managers: pulumi-aiservice (Apply), kubectl-edit (Update)"
        );
        assert_eq!(
            origin(&serde_json::json!({"metadata": {}})),
            "no creator recorded"
        );
    }

    #[test]
    fn propagation_comes_from_either_annotation_and_defaults_to_background() {
        let ours = object(
            serde_json::json!({"metadata": {"annotations": {PROPAGATION_ANNOTATION: "foreground"}}}),
        );
        let pulumis = object(
            serde_json::json!({"metadata": {"annotations": {"pulumi.com/deletionPropagationPolicy": "orphan"}}}),
        );
        assert_eq!(propagation(&ours), Propagation::Foreground);
        assert_eq!(propagation(&pulumis), Propagation::Orphan);
        assert_eq!(propagation(&Object::new()), Propagation::Background);
        let mut failures = Vec::new();
        check_propagation(
            &object(
                serde_json::json!({"metadata": {"annotations": {PROPAGATION_ANNOTATION: "soon"}}}),
            ),
            &mut failures,
        );
        assert_eq!(
            failures[0].path.to_string(),
            r#"metadata.annotations["aiservice.example.com/deletion-propagation"]"#
        );
    }
}
