//! The resources the provider manages, one file per kind, and the registry adapters use to
//! find them by token.

pub(crate) mod crd;
mod custom_resource;
mod diff;
pub mod import_id;
mod naming;
mod object;
pub mod openapi;
mod operator;
mod ownership;
mod ratchet;
mod typed;

pub use naming::label_problem as namespace_problem;

use crate::contract::Resource;

use object::KubeObject;

static CRD: KubeObject<crd::Crd> = KubeObject::new();
static CUSTOM_RESOURCE: KubeObject<custom_resource::CustomResource> = KubeObject::new();
static AI_SERVICE: KubeObject<typed::Typed<typed::AIServiceKind>> = KubeObject::new();
static MODEL_SERVING: KubeObject<typed::Typed<typed::ModelServingKind>> = KubeObject::new();
static OPERATOR: operator::Operator = operator::Operator;

pub use operator::TOKEN as OPERATOR_TOKEN;

/// Every resource, in the order the schema lists them.
pub fn all() -> [&'static dyn Resource; 5] {
    [
        &CRD,
        &CUSTOM_RESOURCE,
        &AI_SERVICE,
        &MODEL_SERVING,
        &OPERATOR,
    ]
}

/// The resource with this Pulumi type token.
pub fn find(token: &str) -> Option<&'static dyn Resource> {
    all().into_iter().find(|r| r.token() == token)
}
