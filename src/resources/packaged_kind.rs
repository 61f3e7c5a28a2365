//! The resources of a CRD package ([`super::crd_package`]): one per served version of each
//! kind, a custom resource whose `apiVersion` and `kind` its token fixes. Everything else is
//! the custom resource's: validation against the CRD (planned, live, or the packaged one),
//! apply, await, import by `namespace/name`.

use std::collections::HashMap;

use crate::contract::{
    CheckFailure, CheckRequest, Checked, Context, Diff, ReadResult, Resource, ResourceError, State,
};
use crate::description::{Description, Form, ObjectForm, Spec};
use crate::value::{Object, PropertyPath, Value};

use super::crd_package::{CrdPackage, PackagedKind};

pub struct PackagedResource {
    description: Description,
    api_version: &'static str,
    kind: &'static str,
}

impl PackagedResource {
    /// The resource of a packaged kind. A provider serves one package for its lifetime, so
    /// its few resources live as long as the process (`'static`, as the registry's).
    pub fn leak(kind: &PackagedKind) -> &'static dyn Resource {
        let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
        let (api_version, kind_name) = (leak(&kind.api_version), leak(&kind.kind));
        Box::leak(Box::new(PackagedResource {
            description: Description {
                token: leak(&kind.token),
                summary: "A custom resource of a CRD package.",
                form: Form::Object(ObjectForm {
                    fixed_type: Some((api_version, kind_name)),
                    spec: Spec::Any,
                    namespaced: Some(kind.namespaced),
                    import_id: "<namespace>/<name> or <name>",
                }),
            },
            api_version,
            kind: kind_name,
        }))
    }

    /// `inputs` with this resource's `apiVersion` and `kind`, which a custom resource reads
    /// its type from.
    fn typed(&self, inputs: &Object) -> Object {
        let mut inputs = inputs.clone();
        inputs.insert("apiVersion".into(), Value::String(self.api_version.into()));
        inputs.insert("kind".into(), Value::String(self.kind.into()));
        inputs
    }

    /// The SDKs send the fixed values; a program that sets others (YAML can) is told.
    fn conflicts(&self, news: &Object) -> Vec<CheckFailure> {
        [("apiVersion", self.api_version), ("kind", self.kind)]
            .into_iter()
            .filter_map(|(field, fixed)| match news.get(field) {
                None | Some(Value::Null | Value::Unknown) => None,
                Some(Value::String(s)) if s == fixed => None,
                Some(other) => {
                    let got = match other {
                        Value::String(s) => format!("{s:?}"),
                        other => other.type_name().to_string(),
                    };
                    Some(CheckFailure::new(
                        PropertyPath::dotted(field),
                        format!("this resource is always {fixed:?}, got {got}"),
                    ))
                }
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl Resource for PackagedResource {
    fn describe(&self) -> Description {
        self.description.clone()
    }

    async fn check(&self, ctx: &Context, req: CheckRequest<'_>) -> Result<Checked, ResourceError> {
        let conflicts = self.conflicts(&req.news);
        let news = self.typed(&req.news);
        let mut checked = super::custom_resource()
            .check(ctx, CheckRequest { news, ..req })
            .await?;
        checked.failures.extend(conflicts);
        Ok(checked)
    }

    fn diff(&self, old_inputs: &Object, old: &State, news: &Object) -> Diff {
        super::custom_resource().diff(old_inputs, old, news)
    }

    async fn create(
        &self,
        ctx: &Context,
        inputs: &Object,
        preview: bool,
    ) -> Result<State, ResourceError> {
        super::custom_resource().create(ctx, inputs, preview).await
    }

    /// An import records no inputs: the token tells the type.
    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        old_inputs: &Object,
    ) -> Result<Option<ReadResult>, ResourceError> {
        let inputs = match old_inputs.is_empty() {
            true => self.typed(old_inputs),
            false => old_inputs.clone(),
        };
        super::custom_resource().read(ctx, id, &inputs).await
    }

    async fn update(
        &self,
        ctx: &Context,
        old: &State,
        news: &Object,
        preview: bool,
    ) -> Result<State, ResourceError> {
        super::custom_resource()
            .update(ctx, old, news, preview)
            .await
    }

    async fn delete(&self, ctx: &Context, old: &State) -> Result<(), ResourceError> {
        super::custom_resource().delete(ctx, old).await
    }
}

/// The CRD package a provider serves once parameterized, and its resources by token.
pub struct ServedPackage {
    pub package: CrdPackage,
    resources: HashMap<String, &'static dyn Resource>,
}

impl ServedPackage {
    pub fn new(package: CrdPackage) -> Self {
        let resources = package
            .kinds()
            .iter()
            .map(|kind| (kind.token.clone(), PackagedResource::leak(kind)))
            .collect();
        Self { package, resources }
    }

    /// The package's resource with this token.
    pub fn find(&self, token: &str) -> Option<&'static dyn Resource> {
        self.resources.get(token).copied()
    }
}
