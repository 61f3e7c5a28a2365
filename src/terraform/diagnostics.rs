//! Problems as Terraform shows them: a diagnostic whose attribute path points into the
//! configuration, so the CLI underlines the offending attribute.

use crate::contract::{CheckFailure, ResourceError};
use crate::proto::tfplugin6::{AttributePath, Diagnostic, attribute_path, diagnostic::Severity};
use crate::value::PropertyPath;

use super::cty::CtyError;
use super::layout::Layout;

pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error as i32,
        summary: summary.into(),
        detail: detail.into(),
        attribute: None,
    }
}

/// Something the user should know that does not stop the operation.
pub fn warning(summary: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning as i32,
        summary,
        detail: String::new(),
        attribute: None,
    }
}

fn at(mut diagnostic: Diagnostic, path: Option<AttributePath>) -> Diagnostic {
    diagnostic.attribute = path;
    diagnostic
}

/// The attribute holding an input property ([`Layout::attribute_of`]). The path stops at the
/// attribute: CLIs place a diagnostic on the attribute's line and cannot follow a path into an
/// object-valued expression (Terraform 1.0 falls back to the resource's header); the
/// diagnostic's text names the full property path.
pub fn attribute_path(layout: &Layout, path: &PropertyPath) -> Option<AttributePath> {
    layout.attribute_of(path).map(|name| top_level(&name))
}

/// A top-level attribute of a schema (the provider block's).
pub fn top_level(name: &str) -> AttributePath {
    AttributePath {
        steps: vec![attribute(name)],
    }
}

fn attribute(name: &str) -> attribute_path::Step {
    attribute_path::Step {
        selector: Some(attribute_path::step::Selector::AttributeName(
            name.to_string(),
        )),
    }
}

/// A check failure of `resource_type`'s inputs, worded like the Pulumi side's.
pub fn check_failure(resource_type: &str, layout: &Layout, failure: &CheckFailure) -> Diagnostic {
    at(
        error(format!("Invalid {resource_type}"), failure.to_string()),
        attribute_path(layout, &failure.path),
    )
}

/// A value that did not decode with its schema type (only a CLI bug or a hand-edited state
/// can cause this).
pub fn bad_value(what: &str, e: &CtyError) -> Diagnostic {
    error(format!("Unreadable {what}"), e.to_string())
}

pub fn resource_error(resource_type: &str, layout: &Layout, e: &ResourceError) -> Diagnostic {
    match e {
        ResourceError::Invalid { path, reason } => check_failure(
            resource_type,
            layout,
            &CheckFailure::new(path.clone(), reason.clone()),
        ),
        ResourceError::NotReady { .. } => {
            error(format!("{resource_type} is not ready"), e.to_string())
        }
        ResourceError::AlreadyExists { .. } => {
            error(format!("{resource_type} already exists"), e.to_string())
        }
        ResourceError::Kube(_) | ResourceError::Cancelled => {
            error(format!("{resource_type} failed"), e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(path: &AttributePath) -> Vec<String> {
        path.steps
            .iter()
            .map(|s| match &s.selector {
                Some(attribute_path::step::Selector::AttributeName(n)) => n.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn manifest_paths_point_at_the_manifest() {
        let path = PropertyPath::dotted("spec.versions").index(0).key("name");
        let attr = attribute_path(&Layout::Manifest, &path).unwrap();
        assert_eq!(names(&attr), ["manifest"]);
    }

    #[test]
    fn typed_paths_point_at_their_attribute() {
        let attr = attribute_path(
            &Layout::MetadataAndSpec,
            &PropertyPath::dotted("spec.replicas"),
        );
        assert_eq!(names(&attr.unwrap()), ["spec"]);
        assert!(attribute_path(&Layout::MetadataAndSpec, &PropertyPath::dotted("kind")).is_none());
    }
}
