//! The resources the provider manages, one file per kind, and the registry adapters use to
//! find them by token.

pub mod config_group;
pub(crate) mod crd;
pub mod crd_package;
mod custom_resource;
mod diff;
pub mod import_id;
mod lookup;
mod manifests;
mod naming;
mod object;
pub mod openapi;
mod operator;
mod ownership;
pub mod packaged_kind;
mod ratchet;
mod typed;

pub use lookup::{LOOKUPS, Lookup, find_lookup, lookup};
pub use naming::label_problem as namespace_problem;

use std::sync::LazyLock;

use crate::contract::Resource;
use crate::description::Description;

use object::KubeObject;

static CRD: KubeObject<crd::Crd> = KubeObject::new();
static CUSTOM_RESOURCE: KubeObject<custom_resource::CustomResource> = KubeObject::new();
static AI_SERVICE: KubeObject<typed::Typed<typed::AIServiceKind>> = KubeObject::new();
static MODEL_SERVING: KubeObject<typed::Typed<typed::ModelServingKind>> = KubeObject::new();
static OPERATOR: operator::Operator = operator::Operator;

/// A resource and its description, computed once.
pub struct Registered {
    pub description: Description,
    pub resource: &'static dyn Resource,
}

/// Every resource, in the order the schemas list them: the one place a resource is added.
pub fn all() -> &'static [Registered] {
    static REGISTRY: LazyLock<Vec<Registered>> = LazyLock::new(|| {
        let resources: [&'static dyn Resource; 5] = [
            &CRD,
            &CUSTOM_RESOURCE,
            &AI_SERVICE,
            &MODEL_SERVING,
            &OPERATOR,
        ];
        resources
            .into_iter()
            .map(|resource| Registered {
                description: resource.describe(),
                resource,
            })
            .collect()
    });
    &REGISTRY
}

/// Every component, in the order the schema lists them (Pulumi only: Terraform configurations
/// compose resources in HCL).
pub fn components() -> Vec<crate::description::ComponentDescription> {
    vec![config_group::describe()]
}

/// Any custom resource: what a CRD package's resources are, with their type fixed.
fn custom_resource() -> &'static dyn Resource {
    &CUSTOM_RESOURCE
}

/// The resource with this Pulumi type token.
pub fn find(token: &str) -> Option<&'static dyn Resource> {
    all()
        .iter()
        .find(|r| r.description.token == token)
        .map(|r| r.resource)
}

#[cfg(test)]
mod tests {
    /// Parity by construction: both protocols serve every resource of the registry, under
    /// the names users write.
    #[test]
    fn every_resource_is_in_both_schemas() {
        let pulumi: serde_json::Value =
            serde_json::from_str(&crate::schema::schema_json()).unwrap();
        let terraform = crate::terraform::provider_schema();
        let mut names = Vec::new();
        for r in super::all() {
            let (token, name) = (r.description.token, r.description.terraform_name());
            assert!(
                pulumi["resources"].get(token).is_some(),
                "the Pulumi schema lacks {token}"
            );
            assert!(
                terraform.resource_schemas.contains_key(&name),
                "the Terraform schema lacks {name} ({token})"
            );
            names.push(name);
        }
        assert_eq!(
            pulumi["resources"].as_object().unwrap().len(),
            names.len() + super::components().len()
        );
        assert_eq!(terraform.resource_schemas.len(), names.len());
        assert_eq!(
            names,
            [
                "aiservice_custom_resource_definition",
                "aiservice_custom_resource",
                "aiservice_ai_service",
                "aiservice_model_serving",
                "aiservice_operator",
            ]
        );
    }
}
