//! The `tfplugin6.Provider` service: decodes Terraform's values, calls the protocol-neutral
//! resources and encodes their answers. No resource logic lives here; what is Terraform's
//! own is the shape of a plan (config attributes as written, computed ones known or not).
//! Each RPC's work returns an [`Outcome`]; its diagnostics become the response in one place.

use std::sync::{Arc, Mutex};

use rmpv::Value as Mp;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::contract::{self, CheckRequest, Context, Progress, ResourceError, Session, SessionSlot};
use crate::proto::tfplugin6::{self as tf, provider_server};
use crate::provider_config::{self, ProviderConfig};
use crate::resources::{self, Lookup};
use crate::value::{Object, PropertyPath, Segment, Value};

use super::cty::{self, Type};
use super::diagnostics::{self, attribute_path, bad_value, check_failure, resource_error};
use super::layout::{Attributes, ID, attribute, object_output_values, set};
use super::schema::{self, DataSourceType, ResourceType};

pub struct Provider {
    session: SessionSlot,
    cancel: CancellationToken,
}

/// Why an RPC failed: its diagnostics. A single diagnostic converts with `?`.
struct Failed(Vec<tf::Diagnostic>);

impl From<tf::Diagnostic> for Failed {
    fn from(diagnostic: tf::Diagnostic) -> Self {
        Failed(vec![diagnostic])
    }
}

type Outcome<T> = Result<T, Failed>;

/// The response of an RPC: what its work made, or what `failed` makes of the diagnostics.
fn answer<T>(
    outcome: Outcome<T>,
    failed: impl FnOnce(Vec<tf::Diagnostic>) -> T,
) -> Result<Response<T>, Status> {
    Ok(Response::new(outcome.unwrap_or_else(|Failed(d)| failed(d))))
}

impl Provider {
    pub fn new() -> Self {
        Self {
            session: SessionSlot::default(),
            cancel: CancellationToken::new(),
        }
    }

    fn context(&self, type_name: &str, owner: Option<String>) -> Result<Context, tf::Diagnostic> {
        self.operation(type_name, owner).map(|(ctx, _)| ctx)
    }

    /// An operation's context and its progress, whose warnings the response carries.
    fn operation(
        &self,
        type_name: &str,
        owner: Option<String>,
    ) -> Result<(Context, Arc<LogProgress>), tf::Diagnostic> {
        let session = self.session.current().ok_or_else(|| {
            diagnostics::error(
                "The aiservice provider is not configured",
                "its configuration depends on values not known until apply, or configuration failed",
            )
        })?;
        let progress = Arc::new(LogProgress {
            resource: type_name.to_string(),
            warnings: Mutex::default(),
        });
        let ctx = session.context(self.cancel.clone(), progress.clone(), None, owner);
        Ok((ctx, progress))
    }
}

/// The identity a resource records on the objects it creates ([`Context::owner`]). Terraform
/// tells a provider nothing that identifies a resource block, so a create mints one and the
/// provider keeps it in the resource's private state, which the CLI hands back on every later
/// plan, apply and read. An imported resource has none: it deletes only what its state names.
#[derive(Default, serde::Deserialize)]
struct Private {
    owner: Option<String>,
}

impl Private {
    fn minted() -> Private {
        Private {
            owner: Some(format!("terraform:{}", uuid::Uuid::new_v4())),
        }
    }

    /// What an earlier response stored; empty (or a state written before owners) is none.
    fn read(bytes: &[u8]) -> Private {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    fn bytes(&self) -> Vec<u8> {
        match &self.owner {
            None => Vec::new(),
            Some(owner) => serde_json::json!({ "owner": owner })
                .to_string()
                .into_bytes(),
        }
    }
}

/// Progress goes to the plugin's stderr, which the CLI logs (`TF_LOG=info`); warnings also go
/// to the user, as warning diagnostics of the response.
struct LogProgress {
    resource: String,
    warnings: Mutex<Vec<String>>,
}

impl LogProgress {
    fn diagnostics(&self) -> Vec<tf::Diagnostic> {
        let warnings =
            std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|e| e.into_inner()));
        warnings.into_iter().map(diagnostics::warning).collect()
    }
}

impl Progress for LogProgress {
    fn info(&self, message: &str) {
        tracing::info!(resource = %self.resource, "{message}");
    }
    fn warn(&self, message: &str) {
        tracing::warn!(resource = %self.resource, "{message}");
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message.to_string());
    }
}

fn unknown_type(kind: &str, name: &str) -> Status {
    Status::invalid_argument(format!("this provider has no {kind} {name:?}"))
}

fn resource_type(name: &str) -> Result<&'static ResourceType, Status> {
    schema::resource_type(name).ok_or_else(|| unknown_type("resource type", name))
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
    let unreadable = |detail: String| diagnostics::error(format!("Unreadable {what}"), detail);
    match rmpv::decode::read_value(&mut &bytes[..]).map_err(|e| unreadable(e.to_string()))? {
        Mp::Nil => Ok(None),
        Mp::Map(pairs) => Ok(Some(
            pairs
                .into_iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v)))
                .collect(),
        )),
        _ => Err(unreadable("expected an object".into())),
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

/// What a plan does to an existing (or not yet existing) object.
enum PlannedAction {
    Create,
    Update,
    Replace,
    None,
}

impl PlannedAction {
    /// The computed attributes the plan cannot know: all of them for a new object; for an
    /// update, what the apply returns (the identity stays).
    fn unknown_until_apply(&self, rt: &ResourceType) -> Vec<String> {
        match self {
            PlannedAction::Create | PlannedAction::Replace => rt.layout.computed(),
            PlannedAction::Update => rt.layout.changed_by_update(),
            PlannedAction::None => Vec::new(),
        }
    }
}

/// Terraform has no auto-naming: a plan must show the name of the object it will create.
fn name_problem(rt: &ResourceType, inputs: &Object) -> Option<tf::Diagnostic> {
    if !rt.layout.is_object() {
        return None;
    }
    match inputs.get("metadata") {
        Some(Value::Unknown) => None,
        Some(Value::Object(m))
            if matches!(m.get("name"), Some(Value::String(_) | Value::Unknown)) =>
        {
            None
        }
        _ => Some(check_failure(
            &rt.name,
            &rt.layout,
            &contract::CheckFailure::new(
                PropertyPath::dotted("metadata.name"),
                "required: a name such as \"example-model\" (Terraform plans show the name they create, so there is no generated name)",
            ),
        )),
    }
}

/// Checks a resource's inputs: the same validation as the Pulumi side, against the CRDs this
/// provider process has planned or can see. Returns the checked inputs (defaults filled in).
async fn check(ctx: &Context, rt: &ResourceType, olds: &Object, news: Object) -> Outcome<Object> {
    if let Some(problem) = name_problem(rt, &news) {
        return Err(problem.into());
    }
    let request = CheckRequest {
        name: &rt.name,
        olds,
        news,
        random_seed: &[],
        proposed_name: None,
    };
    let checked = rt
        .resource
        .check(ctx, request)
        .await
        .map_err(|e| resource_error(&rt.name, &rt.layout, &e))?;
    if checked.failures.is_empty() {
        Ok(checked.inputs)
    } else {
        Err(Failed(
            checked
                .failures
                .iter()
                .map(|f| check_failure(&rt.name, &rt.layout, f))
                .collect(),
        ))
    }
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
        // Values known only after apply are checked when the provider is configured.
        let outcome = provider_settings(request.into_inner().config.as_ref())
            .map(|_| tf::validate_provider_config::Response::default())
            .map_err(Failed::from);
        answer(outcome, |diagnostics| {
            tf::validate_provider_config::Response { diagnostics }
        })
    }

    async fn configure_provider(
        &self,
        request: Request<tf::configure_provider::Request>,
    ) -> Result<Response<tf::configure_provider::Response>, Status> {
        let outcome = async {
            // Unknown values leave it unconfigured: every resource operation then says so.
            if let Some(settings) = provider_settings(request.into_inner().config.as_ref())? {
                let session = Session::open(&settings)
                    .await
                    .map_err(|e| diagnostics::error("Cannot reach the cluster", e.to_string()))?;
                self.session.set(session);
            }
            Ok(tf::configure_provider::Response::default())
        };
        answer(outcome.await, |diagnostics| {
            tf::configure_provider::Response { diagnostics }
        })
    }

    async fn validate_resource_config(
        &self,
        request: Request<tf::validate_resource_config::Request>,
    ) -> Result<Response<tf::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let rt = resource_type(&req.type_name)?;
        // Only what needs no cluster: the plan checks the rest against the CRD.
        let outcome = (|| {
            if let Some(config) = attributes(req.config.as_ref(), &rt.name)? {
                let inputs = rt.layout.inputs_of(&rt.name, &config)?;
                if let Some(problem) = name_problem(rt, &inputs) {
                    return Err(problem.into());
                }
            }
            Ok(tf::validate_resource_config::Response::default())
        })();
        answer(outcome, |diagnostics| {
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
        Ok(Response::new(Default::default()))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<tf::upgrade_resource_state::Request>,
    ) -> Result<Response<tf::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let rt = resource_type(&req.type_name)?;
        let raw = req.raw_state.unwrap_or_default();
        let stored: &[u8] = if raw.json.is_empty() {
            b"null"
        } else {
            &raw.json
        };
        // Schema version 0 is the only one so far: upgrading is re-encoding.
        let outcome = (|| {
            let json = serde_json::from_slice::<serde_json::Value>(stored).map_err(|e| {
                diagnostics::error(format!("Unreadable {} state", rt.name), e.to_string())
            })?;
            let mp = cty::json_to_msgpack(&json, &rt.state_type(), &PropertyPath::root())
                .map_err(|e| bad_value(&format!("{} state", rt.name), &e))?;
            Ok(tf::upgrade_resource_state::Response {
                upgraded_state: Some(dynamic_value(mp)),
                diagnostics: Vec::new(),
            })
        })();
        answer(outcome, |diagnostics| {
            tf::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics,
            }
        })
    }

    async fn read_resource(
        &self,
        request: Request<tf::read_resource::Request>,
    ) -> Result<Response<tf::read_resource::Response>, Status> {
        let req = request.into_inner();
        let rt = resource_type(&req.type_name)?;
        let owner = Private::read(&req.private).owner;
        let outcome = self.read(rt, req.current_state.as_ref(), owner).await;
        answer(
            outcome.map(|new_state| tf::read_resource::Response {
                new_state,
                diagnostics: Vec::new(),
                private: req.private.clone(),
            }),
            |diagnostics| tf::read_resource::Response {
                new_state: req.current_state.clone(),
                diagnostics,
                private: req.private.clone(),
            },
        )
    }

    async fn plan_resource_change(
        &self,
        request: Request<tf::plan_resource_change::Request>,
    ) -> Result<Response<tf::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let rt = resource_type(&req.type_name)?;
        answer(self.plan(rt, req).await, |diagnostics| {
            tf::plan_resource_change::Response {
                diagnostics,
                ..Default::default()
            }
        })
    }

    async fn apply_resource_change(
        &self,
        request: Request<tf::apply_resource_change::Request>,
    ) -> Result<Response<tf::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        let rt = resource_type(&req.type_name)?;
        let (prior_state, private) = (req.prior_state.clone(), req.planned_private.clone());
        // A failed apply leaves the state as it was.
        answer(self.apply(rt, req).await, |diagnostics| {
            tf::apply_resource_change::Response {
                new_state: prior_state,
                private,
                diagnostics,
            }
        })
    }

    async fn import_resource_state(
        &self,
        request: Request<tf::import_resource_state::Request>,
    ) -> Result<Response<tf::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let rt = resource_type(&req.type_name)?;
        answer(self.import(rt, &req.id).await, |diagnostics| {
            tf::import_resource_state::Response {
                imported_resources: Vec::new(),
                diagnostics,
            }
        })
    }

    async fn read_data_source(
        &self,
        request: Request<tf::read_data_source::Request>,
    ) -> Result<Response<tf::read_data_source::Response>, Status> {
        let req = request.into_inner();
        let ds = schema::data_source_type(&req.type_name)
            .ok_or_else(|| unknown_type("data source", &req.type_name))?;
        answer(
            self.read_data(&ds, req.config.as_ref()).await,
            |diagnostics| tf::read_data_source::Response {
                state: None,
                diagnostics,
            },
        )
    }

    async fn stop_provider(
        &self,
        _: Request<tf::stop_provider::Request>,
    ) -> Result<Response<tf::stop_provider::Response>, Status> {
        self.cancel.cancel();
        Ok(Response::new(tf::stop_provider::Response::default()))
    }
}

/// The work of each resource RPC.
impl Provider {
    /// The state as the cluster has it now; null when the object is gone (the next plan
    /// creates it again).
    async fn read(
        &self,
        rt: &ResourceType,
        current: Option<&tf::DynamicValue>,
        owner: Option<String>,
    ) -> Outcome<Option<tf::DynamicValue>> {
        let Some(mut state) = attributes(current, &rt.name)? else {
            return Ok(current.cloned());
        };
        let ctx = self.context(&rt.name, owner)?;
        let recorded = rt.layout.recorded_state(&state);
        let old_inputs = rt.layout.inputs_of(&rt.name, &state)?;
        let read = rt
            .resource
            .read(&ctx, &recorded.id, &old_inputs)
            .await
            .map_err(|e| resource_error(&rt.name, &rt.layout, &e))?;
        let Some(read) = read else {
            return Ok(Some(dynamic_value(Mp::Nil)));
        };
        rt.layout
            .set_inputs(&rt.name, &mut state, &rt.layout.held(read.inputs))?;
        rt.layout.set_outputs(&mut state, &read.state);
        Ok(Some(object_value(state)))
    }

    async fn plan(
        &self,
        rt: &ResourceType,
        req: tf::plan_resource_change::Request,
    ) -> Outcome<tf::plan_resource_change::Response> {
        let layout = &rt.layout;
        let prior = attributes(req.prior_state.as_ref(), &rt.name)?;
        let Some(mut planned) = attributes(req.proposed_new_state.as_ref(), &rt.name)? else {
            // Destroy: nothing to plan.
            return Ok(tf::plan_resource_change::Response {
                planned_state: req.proposed_new_state,
                planned_private: req.prior_private,
                ..Default::default()
            });
        };
        let (ctx, progress) = self.operation(&rt.name, Private::read(&req.prior_private).owner)?;
        let news = layout.inputs_of(&rt.name, &planned)?;
        let olds = match &prior {
            Some(prior) => layout.inputs_of(&rt.name, prior)?,
            None => Object::new(),
        };
        let checked = check(&ctx, rt, &olds, news.clone()).await?;
        let mut requires_replace = Vec::new();
        let recorded = prior.as_ref().map(|prior| layout.recorded_state(prior));
        let action = match (&prior, &recorded) {
            (Some(prior), Some(recorded)) => {
                let diff = rt.resource.diff(&olds, recorded, &news);
                requires_replace = diff
                    .changes
                    .iter()
                    .filter(|c| c.replace)
                    .filter_map(|c| attribute_path(layout, &c.path))
                    .collect();
                for name in layout.computed() {
                    if let Some(value) = prior.get(&name) {
                        planned.insert(name, value.clone());
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
            _ => PlannedAction::Create,
        };
        if !layout.is_object() {
            // Settings left unset show the defaults they take.
            layout.set_inputs(&rt.name, &mut planned, &checked)?;
        }
        for name in action.unknown_until_apply(rt) {
            set(&mut planned, &name, &Value::Unknown, &Type::Dynamic);
        }
        if let (PlannedAction::Create, Some(id)) = (&action, planned_id(rt, &checked, &ctx)) {
            set(&mut planned, ID, &Value::String(id), &Type::String);
        }
        // Ask the cluster too, writing nothing (server-side dry-run), so that what the
        // apiserver would refuse (fields another manager owns, its own validation) fails the
        // plan rather than the apply. A replacement is a delete, then a create that cannot be
        // tried while the old object exists.
        let dry_run = match (&action, &recorded) {
            (PlannedAction::Create, _) => Some(rt.resource.create(&ctx, &checked, true).await),
            (PlannedAction::Update, Some(recorded)) => {
                Some(rt.resource.update(&ctx, recorded, &checked, true).await)
            }
            _ => None,
        };
        if let Some(Err(e)) = dry_run {
            return Err(resource_error(&rt.name, layout, &e).into());
        }
        Ok(tf::plan_resource_change::Response {
            planned_state: Some(object_value(planned)),
            requires_replace,
            planned_private: req.prior_private,
            diagnostics: progress.diagnostics(),
        })
    }

    async fn apply(
        &self,
        rt: &ResourceType,
        req: tf::apply_resource_change::Request,
    ) -> Outcome<tf::apply_resource_change::Response> {
        let layout = &rt.layout;
        let failed = |e: &ResourceError| Failed(vec![resource_error(&rt.name, layout, e)]);
        let prior = attributes(req.prior_state.as_ref(), &rt.name)?;
        let planned = attributes(req.planned_state.as_ref(), &rt.name)?;
        let private = match prior {
            None => Private::minted(),
            Some(_) => Private::read(&req.planned_private),
        };
        let (ctx, progress) = self.operation(&rt.name, private.owner.clone())?;
        let gone = |diagnostics| tf::apply_resource_change::Response {
            new_state: Some(dynamic_value(Mp::Nil)),
            diagnostics,
            ..Default::default()
        };
        let Some(mut planned) = planned else {
            // Destroy, waiting until the object is gone.
            if let Some(prior) = &prior {
                let recorded = layout.recorded_state(prior);
                rt.resource
                    .delete(&ctx, &recorded)
                    .await
                    .map_err(|e| failed(&e))?;
            }
            return Ok(gone(progress.diagnostics()));
        };
        let news = layout.inputs_of(&rt.name, &planned)?;
        let olds = match &prior {
            Some(prior) => layout.inputs_of(&rt.name, prior).unwrap_or_default(),
            None => Object::new(),
        };
        let inputs = check(&ctx, rt, &olds, news).await?;
        let applied = match &prior {
            None => rt.resource.create(&ctx, &inputs, false).await,
            Some(prior) => {
                let recorded = layout.recorded_state(prior);
                rt.resource.update(&ctx, &recorded, &inputs, false).await
            }
        };
        let (state, diagnostics) = match &applied {
            Ok(state) => (state, progress.diagnostics()),
            // Written but not ready: record it, so it is neither lost nor created twice.
            Err(e @ ResourceError::NotReady { state, .. }) => (state, failed(e).0),
            Err(e) => return Err(failed(e)),
        };
        layout.set_outputs(&mut planned, state);
        Ok(tf::apply_resource_change::Response {
            new_state: Some(object_value(planned)),
            private: private.bytes(),
            diagnostics,
        })
    }

    async fn import(
        &self,
        rt: &ResourceType,
        id: &str,
    ) -> Outcome<tf::import_resource_state::Response> {
        let ctx = self.context(&rt.name, None)?;
        if id.is_empty() {
            return Err(diagnostics::error(
                format!("Cannot import {} \"\"", rt.name),
                format!("empty id; expected {}", rt.import_id),
            )
            .into());
        }
        // Nothing is recorded yet: the resource reads the type from the id (or its own).
        let read = rt
            .resource
            .read(&ctx, id, &Object::new())
            .await
            .map_err(|e| resource_error(&rt.name, &rt.layout, &e))?
            .ok_or_else(|| {
                diagnostics::error(
                    format!("Cannot import {} {id:?}", rt.name),
                    "no such object in the cluster",
                )
            })?;
        let mut state = Attributes::new();
        let mut inputs = rt.layout.held(read.inputs);
        // Written without a namespace, as configurations relying on the provider's default
        // are, so the first plan after an import does not replace the object.
        if let Some(Value::Object(metadata)) = inputs.get_mut("metadata")
            && metadata.get("namespace").and_then(Value::as_str) == Some(ctx.default_namespace())
        {
            metadata.remove("namespace");
        }
        rt.layout.set_inputs(&rt.name, &mut state, &inputs)?;
        rt.layout.set_outputs(&mut state, &read.state);
        Ok(tf::import_resource_state::Response {
            imported_resources: vec![tf::import_resource_state::ImportedResource {
                type_name: rt.name.clone(),
                state: Some(object_value(state)),
                private: Vec::new(),
            }],
            diagnostics: Vec::new(),
        })
    }

    /// A data source: the object it names, as the cluster has it.
    async fn read_data(
        &self,
        ds: &DataSourceType,
        config: Option<&tf::DynamicValue>,
    ) -> Outcome<tf::read_data_source::Response> {
        let config = attributes(config, &ds.name)?.unwrap_or_default();
        let ctx = self.context(&ds.name, None)?;
        let text = |name: &str| match attribute(&config, name, &Type::String) {
            Ok(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let (api_version, kind) = match ds.lookup.fixed_type {
            Some((api_version, kind)) => (api_version.to_string(), kind.to_string()),
            None => (
                text("api_version").unwrap_or_default(),
                text("kind").unwrap_or_default(),
            ),
        };
        let name = text("name").unwrap_or_default();
        let namespace = text("namespace");
        let query = Lookup {
            api_version: &api_version,
            kind: &kind,
            name: &name,
            namespace: namespace.as_deref(),
        };
        let not_found =
            |reason: String| diagnostics::error(format!("{kind} {name:?} not found"), reason);
        let found = resources::lookup(&ctx, &query)
            .await
            .map_err(|e| match e {
                ResourceError::Invalid { reason, .. } => not_found(reason),
                other => not_found(other.to_string()),
            })?
            .ok_or_else(|| not_found("no such object in the cluster".into()))?;
        let ty = ds.state_type();
        let mut state = match cty::decode(&map(config), &ty, &PropertyPath::root()) {
            Ok(Value::Object(state)) => state,
            _ => Object::new(),
        };
        state.insert(
            "spec".into(),
            found.outputs.get("spec").cloned().unwrap_or(Value::Null),
        );
        for (name, value) in object_output_values(&found) {
            state.insert(name.to_string(), value);
        }
        Ok(tf::read_data_source::Response {
            state: Some(dynamic_value(cty::encode(&Value::Object(state), &ty))),
            diagnostics: Vec::new(),
        })
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
            None | Some(Value::Null) => Some(format!("{}/{name}", ctx.default_namespace())),
            Some(Value::String(ns)) => Some(format!("{ns}/{name}")),
            Some(_) => None,
        },
    }
}

/// The provider block as configuration; `None` while a value is known only after apply.
fn provider_settings(
    config: Option<&tf::DynamicValue>,
) -> Result<Option<ProviderConfig>, tf::Diagnostic> {
    let attrs = attributes(config, "provider configuration")?.unwrap_or_default();
    let decoded = cty::decode(&map(attrs), &schema::provider_type(), &PropertyPath::root())
        .map_err(|e| bad_value("provider configuration", &e))?;
    let Value::Object(decoded) = decoded else {
        return Ok(Some(Default::default()));
    };
    if decoded.values().any(Value::contains_unknown) {
        return Ok(None);
    }
    // The provider block's snake_case names become the configuration keys.
    let keys = provider_config::keys();
    let args: Object = keys
        .iter()
        .filter_map(|key| Some((key.name.clone(), decoded.get(&key.snake_case())?.clone())))
        .collect();
    ProviderConfig::from_args(&args, &|_| None, super::DEFAULT_FIELD_MANAGER)
        .map(Some)
        .map_err(|failure| {
            let attr = keys
                .iter()
                .find(|key| failure.path.to_string() == key.name)
                .map(|key| key.snake_case())
                .unwrap_or_default();
            tf::Diagnostic {
                attribute: Some(diagnostics::top_level(&attr)),
                ..diagnostics::error(
                    "Invalid provider configuration",
                    format!("{attr}: {}", failure.reason),
                )
            }
        })
}
