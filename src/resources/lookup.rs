//! Reading any object the cluster serves by its type and name, without managing it: Pulumi's
//! functions and Terraform's data sources.

use crate::cluster::ObjectRef;
use crate::contract::{Context, ResourceError, State};
use crate::description::{LookupDescription, Spec};
use crate::value::{PropertyPath, Value};

/// Every lookup, in the order the schemas list them: the one place a lookup is added.
pub const LOOKUPS: [LookupDescription; 2] = [
    LookupDescription {
        token: "aiservice:index:getCustomResource",
        summary: "Reads any object the cluster serves, by apiVersion, kind, name and namespace.",
        fixed_type: None,
        spec: Spec::Any,
    },
    LookupDescription {
        token: "aiservice:index:getAIService",
        summary: "Reads an AIService: its spec and the status the operator reports (replicas, readyReplicas, url, conditions).",
        fixed_type: Some(("stable.example.com/v1", "AIService")),
        spec: Spec::OurKind("AIService"),
    },
];

/// The lookup with this Pulumi function token.
pub fn find_lookup(token: &str) -> Option<&'static LookupDescription> {
    LOOKUPS.iter().find(|l| l.token == token)
}

/// Which object to read.
pub struct Lookup<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    /// Unset: the provider's namespace. Ignored for cluster-scoped kinds.
    pub namespace: Option<&'a str>,
}

/// The object as the cluster has it, or `None` when it does not exist. A type the cluster
/// does not serve is an error naming `kind`.
pub async fn lookup(ctx: &Context, query: &Lookup<'_>) -> Result<Option<State>, ResourceError> {
    let object_type = ctx
        .kube
        .discover(query.api_version, query.kind)
        .await?
        .ok_or_else(|| ResourceError::Invalid {
            path: PropertyPath::root().key("kind"),
            reason: format!(
                "the cluster serves no {} in {}",
                query.kind, query.api_version
            ),
        })?;
    let namespace = object_type.namespaced.then(|| {
        query
            .namespace
            .unwrap_or(ctx.default_namespace())
            .to_string()
    });
    let object = ObjectRef {
        object_type,
        namespace,
        name: query.name.to_string(),
    };
    let Some(live) = ctx.kube.get(&object).await? else {
        return Ok(None);
    };
    let Value::Object(outputs) = Value::from_json(&live) else {
        unreachable!("the apiserver returns objects")
    };
    Ok(Some(State {
        id: object.id(),
        outputs,
    }))
}
