//! The `tfplugin6.Provider` service: decodes Terraform's values, calls the protocol-neutral
//! resources and encodes their answers. No resource logic lives here; what is Terraform's
//! own is the shape of a plan (config attributes as written, computed ones known or not).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use rmpv::Value as Mp;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::cluster::{KubeLayer, ObjectRef};
use crate::contract::{self, CheckRequest, Context, Progress, Resource, ResourceError, State};
use crate::proto::tfplugin6::{self as tf, provider_server};
use crate::provider_config::{self, ProviderConfig};
use crate::resources;
use crate::value::{Object, PropertyPath, Segment, Value};

use super::cty::{self, Type};
use super::diagnostics::{self, attribute_path, bad_value, check_failure, resource_error};
use super::schema::{self, DataSourceType, Layout, ResourceType};

pub struct Provider {
    kube: RwLock<Option<Arc<KubeLayer>>>,
    cancel: CancellationToken,
}

/// A state or configuration object as the CLI sent it: each attribute's raw value, so that
/// attributes the provider does not change go back exactly as they came, types included.
type Attributes = BTreeMap<String, Mp>;

impl Provider {
    pub fn new() -> Self {
        Self {
            kube: RwLock::new(None),
            cancel: CancellationToken::new(),
        }
    }

    fn context(&self, resource_type: &str) -> Result<Context, tf::Diagnostic> {
        let kube = self
            .kube
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| {
                diagnostics::error(
                    "The aiservice provider is not configured",
                    "its configuration depends on values not known until apply, or configuration failed",
                )
            })?;
        Ok(Context {
            kube,
            cancel: self.cancel.clone(),
            progress: Arc::new(LogProgress(resource_type.to_string())),
            timeout: None,
            // Terraform tells a provider nothing that identifies the resource block, so no
            // existing object is recognised as this one's: an interrupted create is imported.
            owner: None,
        })
    }
}

/// Progress goes to the plugin's stderr, which the CLI logs (`TF_LOG=info`).
struct LogProgress(String);

impl Progress for LogProgress {
    fn info(&self, message: &str) {
        tracing::info!(resource = %self.0, "{message}");
    }
    fn warn(&self, message: &str) {
        tracing::warn!(resource = %self.0, "{message}");
    }
}

fn unknown_type(kind: &str, name: &str) -> Status {
    Status::invalid_argument(format!("this provider has no {kind} {name:?}"))
}

fn resource_type(name: &str) -> Result<(&'static ResourceType, &'static dyn Resource), Status> {
    let rt = schema::resource_type(name).ok_or_else(|| unknown_type("resource type", name))?;
    let resource = resources::find(rt.token).ok_or_else(|| unknown_type("resource", rt.token))?;
    Ok((rt, resource))
}

/// Reads a DynamicValue as an object's attributes; `None` for null (no object).
fn attributes(
    value: Option<&tf::DynamicValue>,
    what: &str,
) -> Result<Option<Attributes>, tf::Diagnostic> {
    let bytes = value.map(|v| v.msgpack.as_slice()).unwrap_or_default();
    if bytes.is_empty() {
        return Ok(None);
    }
    let mp = rmpv::decode::read_value(&mut &bytes[..])
        .map_err(|e| diagnostics::error(format!("Unreadable {what}"), e.to_string()))?;
    match mp {
        Mp::Nil => Ok(None),
        Mp::Map(pairs) => Ok(Some(
            pairs
                .into_iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v)))
                .collect(),
        )),
        _ => Err(diagnostics::error(
            format!("Unreadable {what}"),
            "expected an object",
        )),
    }
}

fn dynamic_value(mp: Mp) -> tf::DynamicValue {
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut bytes, &mp);
    tf::DynamicValue {
        msgpack: bytes,
        json: Vec::new(),
    }
}

fn map(attrs: Attributes) -> Mp {
    Mp::Map(attrs.into_iter().map(|(k, v)| (Mp::from(k), v)).collect())
}

fn object_value(attrs: Attributes) -> tf::DynamicValue {
    dynamic_value(map(attrs))
}

/// Decodes one attribute with its schema type.
fn attribute(attrs: &Attributes, name: &str, ty: &Type) -> Result<Value, cty::CtyError> {
    match attrs.get(name) {
        None => Ok(Value::Null),
        Some(mp) => cty::decode(mp, ty, &PropertyPath::root().key(name)),
    }
}

/// The resource's inputs held by a configuration or state.
fn inputs_of(rt: &ResourceType, attrs: &Attributes) -> Result<Object, tf::Diagnostic> {
    let mut inputs = Object::new();
    for name in rt.layout.input_attributes() {
        let value = attribute(attrs, name, &Type::Dynamic).map_err(|e| bad_value(rt.name, &e))?;
        match (rt.layout, value) {
            (_, Value::Null) => {}
            (Layout::Manifest, Value::Object(manifest)) => inputs = manifest,
            (Layout::Manifest, Value::Unknown) => {}
            (Layout::Manifest, other) => {
                return Err(check_failure(
                    rt.name,
                    rt.layout,
                    &contract::CheckFailure::new(
                        PropertyPath::root(),
                        format!(
                            "expected an object (the whole Kubernetes object), got {}",
                            other.type_name()
                        ),
                    ),
                ));
            }
            (Layout::MetadataAndSpec, value) => {
                inputs.insert(name.to_string(), value);
            }
        }
    }
    Ok(inputs)
}

/// What a plan does to an existing (or not yet existing) object.
enum PlannedAction {
    Create,
    Update,
    Replace,
    None,
}

impl PlannedAction {
    /// The computed attributes the plan cannot know: all of them for a new object; for an
    /// update, what the cluster returns (the identity stays).
    fn unknown_until_apply(&self) -> &'static [&'static str] {
        match self {
            PlannedAction::Create | PlannedAction::Replace => &schema::COMPUTED,
            PlannedAction::Update => &[schema::OBJECT, schema::STATUS],
            PlannedAction::None => &[],
        }
    }
}

/// The inputs a layout's attributes hold (a typed resource's `apiVersion` and `kind` are fixed).
fn layout_inputs(layout: Layout, inputs: Object) -> Object {
    match layout {
        Layout::Manifest => inputs,
        Layout::MetadataAndSpec => inputs
            .into_iter()
            .filter(|(k, _)| layout.input_attributes().contains(&k.as_str()))
            .collect(),
    }
}

/// Terraform has no auto-naming: a plan must show the name it will create.
fn name_problem(rt: &ResourceType, inputs: &Object) -> Option<tf::Diagnostic> {
    match inputs.get("metadata") {
        Some(Value::Unknown) => None,
        Some(Value::Object(m))
            if matches!(m.get("name"), Some(Value::String(_) | Value::Unknown)) =>
        {
            None
        }
        _ => Some(check_failure(
            rt.name,
            rt.layout,
            &contract::CheckFailure::new(
                PropertyPath::dotted("metadata.name"),
                "required: a name such as \"example-model\" (Terraform plans show the name they create, so there is no generated name)",
            ),
        )),
    }
}

/// Checks a resource's inputs: the same validation as the Pulumi side, against the CRDs this
/// provider process has planned or can see. Returns the checked inputs or the diagnostics.
async fn check(
    ctx: &Context,
    rt: &ResourceType,
    resource: &dyn Resource,
    olds: &Object,
    news: Object,
) -> Result<Object, Vec<tf::Diagnostic>> {
    if let Some(problem) = name_problem(rt, &news) {
        return Err(vec![problem]);
    }
    let checked = resource
        .check(
            ctx,
            CheckRequest {
                name: rt.name,
                olds,
                news,
                random_seed: &[],
                proposed_name: None,
            },
        )
        .await
        .map_err(|e| vec![resource_error(rt.name, rt.layout, &e)])?;
    if checked.failures.is_empty() {
        Ok(checked.inputs)
    } else {
        Err(checked
            .failures
            .iter()
            .map(|f| check_failure(rt.name, rt.layout, f))
            .collect())
    }
}

/// The computed attributes of a state the cluster returned.
fn computed_from(state: &State) -> [(&'static str, Value); 4] {
    let mut object = state.outputs.clone();
    let status = object.remove("status").unwrap_or(Value::Null);
    if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
        metadata.remove("managedFields");
    }
    let uid = object
        .get("metadata")
        .and_then(|m| m.get_str("uid"))
        .map(|s| Value::String(s.to_string()))
        .unwrap_or(Value::Null);
    [
        (schema::ID, Value::String(state.id.clone())),
        (schema::UID, uid),
        (schema::OBJECT, Value::Object(object)),
        (schema::STATUS, status),
    ]
}

fn set(attrs: &mut Attributes, name: &str, value: &Value, ty: &Type) {
    attrs.insert(name.to_string(), cty::encode(value, ty));
}

fn set_computed(attrs: &mut Attributes, state: &State) {
    for (name, value) in computed_from(state) {
        set(attrs, name, &value, &schema::computed_type(name));
    }
}

/// The state recorded before: its id and the object as last read.
fn recorded_state(attrs: &Attributes) -> State {
    let id = match attribute(attrs, schema::ID, &Type::String) {
        Ok(Value::String(id)) => id,
        _ => String::new(),
    };
    let outputs = match attribute(attrs, schema::OBJECT, &Type::Dynamic) {
        Ok(Value::Object(object)) => object,
        _ => Object::new(),
    };
    State { id, outputs }
}

/// Puts new input values into a state, keeping the raw value where nothing changed so the
/// types the configuration used survive.
fn set_inputs(
    rt: &ResourceType,
    attrs: &mut Attributes,
    inputs: &Object,
) -> Result<(), tf::Diagnostic> {
    let old = inputs_of(rt, attrs)?;
    for name in rt.layout.input_attributes() {
        let (before, after) = match rt.layout {
            Layout::Manifest => (Value::Object(old.clone()), Value::Object(inputs.clone())),
            Layout::MetadataAndSpec => (
                old.get(*name).cloned().unwrap_or(Value::Null),
                inputs.get(*name).cloned().unwrap_or(Value::Null),
            ),
        };
        if before != after || !attrs.contains_key(*name) {
            set(attrs, name, &after, &Type::Dynamic);
        }
    }
    Ok(())
}

fn diagnostics_only<T>(
    diagnostics: Vec<tf::Diagnostic>,
    make: impl FnOnce(Vec<tf::Diagnostic>) -> T,
) -> Result<Response<T>, Status> {
    Ok(Response::new(make(diagnostics)))
}

#[tonic::async_trait]
impl provider_server::Provider for Provider {
    async fn get_provider_schema(
        &self,
        _: Request<tf::get_provider_schema::Request>,
    ) -> Result<Response<tf::get_provider_schema::Response>, Status> {
        Ok(Response::new(super::provider_schema()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<tf::validate_provider_config::Request>,
    ) -> Result<Response<tf::validate_provider_config::Response>, Status> {
        let diagnostics = match provider_settings(request.into_inner().config.as_ref()) {
            // Values known only after apply are checked when the provider is configured.
            Ok(_) | Err(SettingsProblem::Unknown) => Vec::new(),
            Err(SettingsProblem::Invalid(d)) => vec![d],
        };
        diagnostics_only(diagnostics, |diagnostics| {
            tf::validate_provider_config::Response { diagnostics }
        })
    }

    async fn configure_provider(
        &self,
        request: Request<tf::configure_provider::Request>,
    ) -> Result<Response<tf::configure_provider::Response>, Status> {
        let settings = match provider_settings(request.into_inner().config.as_ref()) {
            Ok(settings) => settings,
            // Left unconfigured: every resource operation then says so.
            Err(SettingsProblem::Unknown) => {
                return diagnostics_only(Vec::new(), |diagnostics| {
                    tf::configure_provider::Response { diagnostics }
                });
            }
            Err(SettingsProblem::Invalid(d)) => {
                return diagnostics_only(vec![d], |diagnostics| tf::configure_provider::Response {
                    diagnostics,
                });
            }
        };
        let diagnostics = match settings.connect().await {
            Ok(kube) => {
                *self.kube.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(kube));
                Vec::new()
            }
            Err(e) => vec![diagnostics::error(
                "Cannot reach the cluster",
                e.to_string(),
            )],
        };
        diagnostics_only(diagnostics, |diagnostics| {
            tf::configure_provider::Response { diagnostics }
        })
    }

    async fn validate_resource_config(
        &self,
        request: Request<tf::validate_resource_config::Request>,
    ) -> Result<Response<tf::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let (rt, _) = resource_type(&req.type_name)?;
        // Only what needs no cluster: the plan checks the rest against the CRD.
        let diagnostics = match attributes(req.config.as_ref(), rt.name) {
            Err(d) => vec![d],
            Ok(None) => Vec::new(),
            Ok(Some(config)) => match inputs_of(rt, &config) {
                Err(d) => vec![d],
                Ok(inputs) => name_problem(rt, &inputs).into_iter().collect(),
            },
        };
        diagnostics_only(diagnostics, |diagnostics| {
            tf::validate_resource_config::Response { diagnostics }
        })
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<tf::validate_data_resource_config::Request>,
    ) -> Result<Response<tf::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        schema::data_source_type(&req.type_name)
            .ok_or_else(|| unknown_type("data source", &req.type_name))?;
        diagnostics_only(Vec::new(), |diagnostics| {
            tf::validate_data_resource_config::Response { diagnostics }
        })
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<tf::upgrade_resource_state::Request>,
    ) -> Result<Response<tf::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let (rt, _) = resource_type(&req.type_name)?;
        let raw = req.raw_state.unwrap_or_default();
        let stored: &[u8] = if raw.json.is_empty() {
            b"null"
        } else {
            &raw.json
        };
        // Schema version 0 is the only one so far: upgrading is re-encoding.
        let upgraded = serde_json::from_slice::<serde_json::Value>(stored)
            .map_err(|e| diagnostics::error(format!("Unreadable {} state", rt.name), e.to_string()))
            .and_then(|json| {
                cty::json_to_msgpack(&json, &rt.state_type(), &PropertyPath::root())
                    .map_err(|e| bad_value(&format!("{} state", rt.name), &e))
            });
        Ok(Response::new(match upgraded {
            Ok(mp) => tf::upgrade_resource_state::Response {
                upgraded_state: Some(dynamic_value(mp)),
                diagnostics: Vec::new(),
            },
            Err(d) => tf::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: vec![d],
            },
        }))
    }

    async fn read_resource(
        &self,
        request: Request<tf::read_resource::Request>,
    ) -> Result<Response<tf::read_resource::Response>, Status> {
        let req = request.into_inner();
        let (rt, resource) = resource_type(&req.type_name)?;
        let respond = |new_state, diagnostics| {
            Ok(Response::new(tf::read_resource::Response {
                new_state,
                diagnostics,
                private: req.private.clone(),
            }))
        };
        let mut current = match attributes(req.current_state.as_ref(), rt.name) {
            Ok(Some(current)) => current,
            Ok(None) => return respond(req.current_state.clone(), Vec::new()),
            Err(d) => return respond(req.current_state.clone(), vec![d]),
        };
        let ctx = match self.context(rt.name) {
            Ok(ctx) => ctx,
            Err(d) => return respond(req.current_state.clone(), vec![d]),
        };
        let recorded = recorded_state(&current);
        let old_inputs = match inputs_of(rt, &current) {
            Ok(inputs) => inputs,
            Err(d) => return respond(req.current_state.clone(), vec![d]),
        };
        match resource.read(&ctx, &recorded.id, &old_inputs).await {
            Err(e) => respond(
                req.current_state.clone(),
                vec![resource_error(rt.name, rt.layout, &e)],
            ),
            // Gone from the cluster: the next plan creates it again.
            Ok(None) => respond(Some(dynamic_value(Mp::Nil)), Vec::new()),
            Ok(Some(read)) => {
                let inputs = layout_inputs(rt.layout, read.inputs);
                if let Err(d) = set_inputs(rt, &mut current, &inputs) {
                    return respond(req.current_state.clone(), vec![d]);
                }
                set_computed(&mut current, &read.state);
                respond(Some(object_value(current)), Vec::new())
            }
        }
    }

    async fn plan_resource_change(
        &self,
        request: Request<tf::plan_resource_change::Request>,
    ) -> Result<Response<tf::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let (rt, resource) = resource_type(&req.type_name)?;
        let fail = |diagnostics| {
            Ok(Response::new(tf::plan_resource_change::Response {
                planned_state: None,
                requires_replace: Vec::new(),
                planned_private: Vec::new(),
                diagnostics,
            }))
        };
        let (prior, proposed) = match (
            attributes(req.prior_state.as_ref(), rt.name),
            attributes(req.proposed_new_state.as_ref(), rt.name),
        ) {
            (Ok(prior), Ok(proposed)) => (prior, proposed),
            (Err(d), _) | (_, Err(d)) => return fail(vec![d]),
        };
        // Destroy: nothing to plan.
        let Some(mut planned) = proposed else {
            return Ok(Response::new(tf::plan_resource_change::Response {
                planned_state: req.proposed_new_state,
                requires_replace: Vec::new(),
                planned_private: req.prior_private,
                diagnostics: Vec::new(),
            }));
        };
        let ctx = match self.context(rt.name) {
            Ok(ctx) => ctx,
            Err(d) => return fail(vec![d]),
        };
        let news = match inputs_of(rt, &planned) {
            Ok(news) => news,
            Err(d) => return fail(vec![d]),
        };
        let olds = match &prior {
            Some(prior) => match inputs_of(rt, prior) {
                Ok(olds) => olds,
                Err(d) => return fail(vec![d]),
            },
            None => Object::new(),
        };
        let checked = match check(&ctx, rt, resource, &olds, news.clone()).await {
            Ok(checked) => checked,
            Err(diagnostics) => return fail(diagnostics),
        };
        let mut requires_replace = Vec::new();
        let change = match &prior {
            None => PlannedAction::Create,
            Some(prior) => {
                let diff = resource.diff(&olds, &recorded_state(prior), &news);
                requires_replace = diff
                    .changes
                    .iter()
                    .filter(|c| c.replace)
                    .filter_map(|c| attribute_path(rt.layout, &c.path))
                    .collect();
                for name in schema::COMPUTED {
                    if let Some(value) = prior.get(name) {
                        planned.insert(name.to_string(), value.clone());
                    }
                }
                if diff.replaces() {
                    PlannedAction::Replace
                } else if diff.changes.is_empty() {
                    PlannedAction::None
                } else {
                    PlannedAction::Update
                }
            }
        };
        for name in change.unknown_until_apply() {
            planned.insert(
                name.to_string(),
                cty::encode(&Value::Unknown, &Type::Dynamic),
            );
        }
        if let (PlannedAction::Create, Some(id)) = (&change, planned_id(rt, &checked, &ctx)) {
            set(&mut planned, schema::ID, &Value::String(id), &Type::String);
        }
        // Ask the cluster too, writing nothing (server-side dry-run), so that what the
        // apiserver would refuse (fields another manager owns, its own validation) fails the
        // plan rather than the apply. A replacement is a delete, then a create that cannot be
        // tried while the old object exists.
        let dry_run = match (&change, &prior) {
            (PlannedAction::Create, _) => Some(resource.create(&ctx, &checked, true).await),
            (PlannedAction::Update, Some(prior)) => Some(
                resource
                    .update(&ctx, &recorded_state(prior), &checked, true)
                    .await,
            ),
            _ => None,
        };
        if let Some(Err(e)) = dry_run {
            return fail(vec![resource_error(rt.name, rt.layout, &e)]);
        }
        Ok(Response::new(tf::plan_resource_change::Response {
            planned_state: Some(object_value(planned)),
            requires_replace,
            planned_private: Vec::new(),
            diagnostics: Vec::new(),
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<tf::apply_resource_change::Request>,
    ) -> Result<Response<tf::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        let (rt, resource) = resource_type(&req.type_name)?;
        let respond = |new_state: Option<tf::DynamicValue>, diagnostics| {
            Ok(Response::new(tf::apply_resource_change::Response {
                new_state,
                private: Vec::new(),
                diagnostics,
            }))
        };
        let (prior, planned) = match (
            attributes(req.prior_state.as_ref(), rt.name),
            attributes(req.planned_state.as_ref(), rt.name),
        ) {
            (Ok(prior), Ok(planned)) => (prior, planned),
            (Err(d), _) | (_, Err(d)) => return respond(req.prior_state, vec![d]),
        };
        let ctx = match self.context(rt.name) {
            Ok(ctx) => ctx,
            Err(d) => return respond(req.prior_state, vec![d]),
        };
        let Some(mut planned) = planned else {
            // Destroy, waiting until the object is gone.
            let Some(prior) = prior else {
                return respond(Some(dynamic_value(Mp::Nil)), Vec::new());
            };
            return match resource.delete(&ctx, &recorded_state(&prior)).await {
                Ok(()) => respond(Some(dynamic_value(Mp::Nil)), Vec::new()),
                Err(e) => respond(
                    req.prior_state,
                    vec![resource_error(rt.name, rt.layout, &e)],
                ),
            };
        };
        let news = match inputs_of(rt, &planned) {
            Ok(news) => news,
            Err(d) => return respond(req.prior_state, vec![d]),
        };
        let olds = match &prior {
            Some(prior) => inputs_of(rt, prior).unwrap_or_default(),
            None => Object::new(),
        };
        let inputs = match check(&ctx, rt, resource, &olds, news).await {
            Ok(inputs) => inputs,
            Err(diagnostics) => return respond(req.prior_state, diagnostics),
        };
        let applied = match &prior {
            None => resource.create(&ctx, &inputs, false).await,
            Some(prior) => {
                resource
                    .update(&ctx, &recorded_state(prior), &inputs, false)
                    .await
            }
        };
        match applied {
            Ok(state) => {
                set_computed(&mut planned, &state);
                respond(Some(object_value(planned)), Vec::new())
            }
            // Written but not ready: record it, so it is neither lost nor created twice.
            Err(ResourceError::NotReady { ref state, .. }) => {
                set_computed(&mut planned, state);
                let error = applied
                    .err()
                    .map(|e| resource_error(rt.name, rt.layout, &e));
                respond(Some(object_value(planned)), error.into_iter().collect())
            }
            Err(e) => respond(
                req.prior_state,
                vec![resource_error(rt.name, rt.layout, &e)],
            ),
        }
    }

    async fn import_resource_state(
        &self,
        request: Request<tf::import_resource_state::Request>,
    ) -> Result<Response<tf::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let (rt, resource) = resource_type(&req.type_name)?;
        let fail = |diagnostics| {
            Ok(Response::new(tf::import_resource_state::Response {
                imported_resources: Vec::new(),
                diagnostics,
            }))
        };
        let ctx = match self.context(rt.name) {
            Ok(ctx) => ctx,
            Err(d) => return fail(vec![d]),
        };
        if req.id.is_empty() {
            return fail(vec![diagnostics::error(
                format!("Cannot import {} \"\"", rt.name),
                format!("empty id; expected {}", rt.import_id.form()),
            )]);
        }
        // Nothing is recorded yet: the resource reads the type from the id (or its own).
        match resource.read(&ctx, &req.id, &Object::new()).await {
            Err(e) => fail(vec![resource_error(rt.name, rt.layout, &e)]),
            Ok(None) => fail(vec![diagnostics::error(
                format!("Cannot import {} {:?}", rt.name, req.id),
                "no such object in the cluster",
            )]),
            Ok(Some(read)) => {
                let mut state = Attributes::new();
                let mut inputs = layout_inputs(rt.layout, read.inputs);
                // Written without a namespace, as configurations relying on the provider's
                // default are, so the first plan after an import does not replace the object.
                if let Some(Value::Object(metadata)) = inputs.get_mut("metadata")
                    && metadata.get("namespace").and_then(Value::as_str)
                        == Some(ctx.kube.default_namespace.as_str())
                {
                    metadata.remove("namespace");
                }
                if let Err(d) = set_inputs(rt, &mut state, &inputs) {
                    return fail(vec![d]);
                }
                set_computed(&mut state, &read.state);
                Ok(Response::new(tf::import_resource_state::Response {
                    imported_resources: vec![tf::import_resource_state::ImportedResource {
                        type_name: rt.name.to_string(),
                        state: Some(object_value(state)),
                        private: Vec::new(),
                    }],
                    diagnostics: Vec::new(),
                }))
            }
        }
    }

    async fn read_data_source(
        &self,
        request: Request<tf::read_data_source::Request>,
    ) -> Result<Response<tf::read_data_source::Response>, Status> {
        let req = request.into_inner();
        let ds = schema::data_source_type(&req.type_name)
            .ok_or_else(|| unknown_type("data source", &req.type_name))?;
        let fail = |diagnostics| {
            Ok(Response::new(tf::read_data_source::Response {
                state: None,
                diagnostics,
            }))
        };
        let config = match attributes(req.config.as_ref(), ds.name) {
            Ok(config) => config.unwrap_or_default(),
            Err(d) => return fail(vec![d]),
        };
        let ctx = match self.context(ds.name) {
            Ok(ctx) => ctx,
            Err(d) => return fail(vec![d]),
        };
        let found = match read_object(&ctx, ds, &config).await {
            Ok(found) => found,
            Err(d) => return fail(vec![d]),
        };
        let ty = ds.state_type();
        let mut state = match cty::decode(&map(config), &ty, &PropertyPath::root()) {
            Ok(Value::Object(state)) => state,
            _ => Object::new(),
        };
        state.insert(
            "spec".into(),
            found.outputs.get("spec").cloned().unwrap_or(Value::Null),
        );
        for (name, value) in computed_from(&found) {
            state.insert(name.to_string(), value);
        }
        Ok(Response::new(tf::read_data_source::Response {
            state: Some(dynamic_value(cty::encode(&Value::Object(state), &ty))),
            diagnostics: Vec::new(),
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<tf::stop_provider::Request>,
    ) -> Result<Response<tf::stop_provider::Response>, Status> {
        self.cancel.cancel();
        Ok(Response::new(tf::stop_provider::Response::default()))
    }
}

/// The id a new object will have, when the plan can tell: its name and, for a namespaced
/// type, its namespace or the provider's.
fn planned_id(rt: &ResourceType, inputs: &Object, ctx: &Context) -> Option<String> {
    let metadata = inputs.get("metadata")?;
    let name = metadata.get_str("name")?;
    match rt.namespaced? {
        false => Some(name.to_string()),
        true => match metadata.get(&[Segment::Key("namespace".into())]) {
            None | Some(Value::Null) => Some(format!("{}/{name}", ctx.kube.default_namespace)),
            Some(Value::String(ns)) => Some(format!("{ns}/{name}")),
            Some(_) => None,
        },
    }
}

/// The object a data source names.
async fn read_object(
    ctx: &Context,
    ds: &DataSourceType,
    config: &Attributes,
) -> Result<State, tf::Diagnostic> {
    let text = |name: &str| match attribute(config, name, &Type::String) {
        Ok(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let (api_version, kind) = match ds.fixed_kind {
        Some((api_version, kind)) => (api_version.to_string(), kind.to_string()),
        None => (
            text("api_version").unwrap_or_default(),
            text("kind").unwrap_or_default(),
        ),
    };
    let name = text("name").unwrap_or_default();
    let not_found =
        |reason: String| diagnostics::error(format!("{kind} {name:?} not found"), reason);
    let object_type = ctx
        .kube
        .discover(&api_version, &kind)
        .await
        .map_err(|e| not_found(e.to_string()))?
        .ok_or_else(|| not_found(format!("the cluster serves no {kind} in {api_version}")))?;
    let namespace = object_type
        .namespaced
        .then(|| text("namespace").unwrap_or_else(|| ctx.kube.default_namespace.clone()));
    let object = ObjectRef {
        object_type,
        namespace,
        name: name.clone(),
    };
    let live = ctx
        .kube
        .get(&object)
        .await
        .map_err(|e| not_found(e.to_string()))?
        .ok_or_else(|| not_found(format!("{} does not exist", object.describe())))?;
    Ok(State {
        id: object.id(),
        outputs: match Value::from_json(&live) {
            Value::Object(outputs) => outputs,
            _ => Object::new(),
        },
    })
}

/// Why provider settings could not be made.
enum SettingsProblem {
    /// A value is known only after apply.
    Unknown,
    Invalid(tf::Diagnostic),
}

fn provider_settings(config: Option<&tf::DynamicValue>) -> Result<ProviderConfig, SettingsProblem> {
    let attrs = attributes(config, "provider configuration")
        .map_err(SettingsProblem::Invalid)?
        .unwrap_or_default();
    let decoded = cty::decode(&map(attrs), &schema::provider_type(), &PropertyPath::root())
        .map_err(|e| SettingsProblem::Invalid(bad_value("provider configuration", &e)))?;
    let Value::Object(decoded) = decoded else {
        return Ok(Default::default());
    };
    if decoded.values().any(Value::contains_unknown) {
        return Err(SettingsProblem::Unknown);
    }
    // The provider block's snake_case names become the configuration keys.
    let keys = provider_config::keys();
    let args: Object = keys
        .iter()
        .filter_map(|key| Some((key.name.clone(), decoded.get(&key.snake_case())?.clone())))
        .collect();
    ProviderConfig::from_args(&args, &|_| None, super::DEFAULT_FIELD_MANAGER).map_err(|failure| {
        let attr = keys
            .iter()
            .find(|key| failure.path.to_string() == key.name)
            .map(|key| key.snake_case())
            .unwrap_or_default();
        SettingsProblem::Invalid(tf::Diagnostic {
            attribute: Some(diagnostics::top_level(&attr)),
            ..diagnostics::error(
                "Invalid provider configuration",
                format!("{attr}: {}", failure.reason),
            )
        })
    })
}
