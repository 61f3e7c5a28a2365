//! The `pulumirpc.ResourceProvider` service: decodes requests, calls the protocol-neutral
//! resources and encodes their answers. No resource logic lives here.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::contract::{self, ChangeKind, Context, Resource, Session, SessionSlot, State};
use crate::proto::pulumirpc::{self as rpc, resource_provider_server::ResourceProvider};
use crate::provider_config::{self, ProviderConfig};
use crate::resources::crd_package::{CrdPackage, PackageArgs};
use crate::resources::packaged_kind::ServedPackage;
use crate::value::{Object, PropertyPath, Value};
use crate::{resources, schema};

use super::engine_log::EngineLog;
use super::errors::{resource_status, value_status};
use super::struct_codec::{decode_struct, encode_struct};

pub struct Provider {
    engine: EngineLog,
    session: SessionSlot,
    cancel: CancellationToken,
    /// The CRD package this provider serves once parameterized (`pulumi package add`, or a
    /// program using the SDK that made): one for the provider's lifetime.
    package: OnceLock<ServedPackage>,
}

impl Provider {
    pub fn new(engine: EngineLog) -> Self {
        Self {
            engine,
            session: SessionSlot::default(),
            cancel: CancellationToken::new(),
            package: OnceLock::new(),
        }
    }

    /// The resource of a type token: the CRD package's if parameterized, else ours.
    fn find(&self, type_token: &str, urn: &str) -> Result<&'static dyn Resource, Status> {
        let token = if type_token.is_empty() {
            type_from_urn(urn)
        } else {
            type_token
        };
        self.package
            .get()
            .and_then(|served| served.find(token))
            .or_else(|| resources::find(token))
            .ok_or_else(|| Status::invalid_argument(format!("unknown resource type {token:?}")))
    }

    /// The package `pulumi package add aiservice <args>` asks for. CRD files are read relative
    /// to the working directory (the CLI's); `group=` reads the CRDs of the cluster that
    /// $KUBECONFIG names (the engine configures no provider for `package add`).
    async fn package_from_args(&self, args: &[String]) -> Result<CrdPackage, String> {
        let args = PackageArgs::parse(args)?;
        let mut live = Vec::new();
        if !args.groups.is_empty() {
            let session = match self.session.current() {
                Some(session) => session,
                None => {
                    let settings = settings(schema::PACKAGE, &Object::new(), &Default::default())
                        .map_err(|f| f.to_string())?;
                    Session::open(&settings).await.map_err(|e| e.to_string())?
                }
            };
            live = session
                .crds_of_groups(&args.groups)
                .await
                .map_err(|e| format!("reading the cluster's CRDs: {e}"))?;
        }
        args.package(&std::env::current_dir().unwrap_or_default(), live)
    }

    /// The package whose configuration the engine sends: the CRD package's name once
    /// parameterized (`<package>:kubeconfig`), else ours.
    fn package_name(&self) -> &str {
        self.package
            .get()
            .map_or(schema::PACKAGE, |served| served.package.name.as_str())
    }

    fn context(&self, urn: &str, timeout_seconds: f64) -> Result<Context, Status> {
        let session = self
            .session
            .current()
            .ok_or_else(|| Status::failed_precondition("the provider is not configured yet"))?;
        Ok(session.context(
            self.cancel.clone(),
            Arc::new(self.engine.for_resource(urn)),
            (timeout_seconds > 0.0).then(|| Duration::from_secs_f64(timeout_seconds)),
            Some(urn.to_string()),
        ))
    }
}

/// `urn:pulumi:stack::project::parent$type::name` → `type`.
fn type_from_urn(urn: &str) -> &str {
    let qualified = urn.split("::").nth(2).unwrap_or_default();
    qualified.rsplit('$').next().unwrap_or_default()
}

/// Settings from the engine's typed arguments, falling back to its older string variables
/// (`<package>:config:<key>`).
fn settings(
    package: &str,
    args: &Object,
    variables: &std::collections::HashMap<String, String>,
) -> Result<ProviderConfig, contract::CheckFailure> {
    let variable = |key: &str| variables.get(&format!("{package}:config:{key}")).cloned();
    ProviderConfig::from_args(args, &variable, super::DEFAULT_FIELD_MANAGER)
}

fn decode(s: Option<&prost_types::Struct>) -> Result<Object, Status> {
    s.map(decode_struct)
        .transpose()
        .map_err(value_status)
        .map(Option::unwrap_or_default)
}

fn encode(object: &Object) -> Option<prost_types::Struct> {
    Some(encode_struct(object))
}

/// Check failures as the engine prints them. Given a property, the CLI shows
/// `property <p> value <inputs[p]>`, looking `p` up as a top-level key only, so a nested path
/// shows `{<nil>}` instead of the user's value. Without one it shows
/// `<type> resource '<name>' has a problem: <reason>`, so the path goes into the reason and
/// the reason (ours) shows the offending value: `spec.replicas: expected integer, got string
/// "three"`, as on the Terraform side.
fn failures(failures: Vec<contract::CheckFailure>) -> Vec<rpc::CheckFailure> {
    failures
        .into_iter()
        .map(|f| rpc::CheckFailure {
            property: String::new(),
            reason: f.to_string(),
        })
        .collect()
}

#[tonic::async_trait]
impl ResourceProvider for Provider {
    async fn handshake(
        &self,
        _: Request<rpc::ProviderHandshakeRequest>,
    ) -> Result<Response<rpc::ProviderHandshakeResponse>, Status> {
        Ok(Response::new(rpc::ProviderHandshakeResponse {
            accept_secrets: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: true,
        }))
    }

    async fn construct(
        &self,
        request: Request<rpc::ConstructRequest>,
    ) -> Result<Response<rpc::ConstructResponse>, Status> {
        super::component::construct(request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_plugin_info(&self, _: Request<()>) -> Result<Response<rpc::PluginInfo>, Status> {
        Ok(Response::new(rpc::PluginInfo {
            version: crate::VERSION.to_string(),
        }))
    }

    /// Our schema, or once parameterized the CRD package's.
    async fn get_schema(
        &self,
        request: Request<rpc::GetSchemaRequest>,
    ) -> Result<Response<rpc::GetSchemaResponse>, Status> {
        let req = request.into_inner();
        let name = req.subpackage_name.as_str();
        let schema = match self.package.get() {
            None if name.is_empty() || name == schema::PACKAGE => schema::schema_json(),
            Some(served) if name.is_empty() || name == served.package.name => {
                schema::crd_package::schema_json(&served.package)
            }
            _ => {
                return Err(Status::not_found(format!(
                    "no package {name:?} here: parameterize the provider with its CRDs first"
                )));
            }
        };
        Ok(Response::new(rpc::GetSchemaResponse { schema }))
    }

    /// Makes this provider serve a CRD package: from the arguments of `pulumi package add
    /// aiservice <args>` (CRD files read relative to the working directory), or from the
    /// value the package's SDK carries when a program runs.
    async fn parameterize(
        &self,
        request: Request<rpc::ParameterizeRequest>,
    ) -> Result<Response<rpc::ParameterizeResponse>, Status> {
        use rpc::parameterize_request::Parameters;
        let package = match request.into_inner().parameters {
            Some(Parameters::Args(args)) => self.package_from_args(&args.args).await,
            Some(Parameters::Value(value)) => {
                CrdPackage::from_parameter(&value.name, &value.version, &value.value)
            }
            None => Err(format!(
                "no parameters; usage: pulumi package add aiservice {}",
                resources::crd_package::USAGE
            )),
        }
        .map_err(|e| Status::invalid_argument(format!("aiservice: {e}")))?;
        let served = self
            .package
            .get_or_init(|| ServedPackage::new(package.clone()));
        if served.package != package {
            return Err(Status::failed_precondition(format!(
                "this provider already serves the package {:?}",
                served.package.name
            )));
        }
        if let Some(session) = self.session.current() {
            session.add_package(&served.package);
        }
        Ok(Response::new(rpc::ParameterizeResponse {
            name: served.package.name.clone(),
            version: served.package.version.clone(),
        }))
    }

    async fn check_config(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Result<Response<rpc::CheckResponse>, Status> {
        let req = request.into_inner();
        let news = decode(req.news.as_ref())?;
        let found = settings(self.package_name(), &news, &Default::default()).err();
        Ok(Response::new(rpc::CheckResponse {
            inputs: req.news,
            failures: failures(found.into_iter().collect()),
        }))
    }

    async fn diff_config(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let req = request.into_inner();
        let olds = decode(req.old_inputs.as_ref().or(req.olds.as_ref()))?;
        let news = decode(req.news.as_ref())?;
        let diffs: Vec<String> = provider_config::keys()
            .into_iter()
            .filter(|k| olds.get(&k.name) != news.get(&k.name))
            .map(|k| k.name)
            .collect();
        Ok(Response::new(rpc::DiffResponse {
            changes: if diffs.is_empty() {
                rpc::diff_response::DiffChanges::DiffNone
            } else {
                rpc::diff_response::DiffChanges::DiffSome
            } as i32,
            diffs,
            ..Default::default()
        }))
    }

    async fn configure(
        &self,
        request: Request<rpc::ConfigureRequest>,
    ) -> Result<Response<rpc::ConfigureResponse>, Status> {
        let req = request.into_inner();
        let args = decode(req.args.as_ref())?;
        let package = self.package_name();
        let settings = settings(package, &args, &req.variables)
            .map_err(|f| Status::invalid_argument(format!("{package}:{}: {}", f.path, f.reason)))?;
        let session = Session::open(&settings)
            .await
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        if let Some(served) = self.package.get() {
            session.add_package(&served.package);
        }
        self.session.set(session);
        Ok(Response::new(rpc::ConfigureResponse {
            accept_secrets: true,
            supports_preview: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: true,
        }))
    }

    async fn check(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Result<Response<rpc::CheckResponse>, Status> {
        let req = request.into_inner();
        let resource = self.find(&req.r#type, &req.urn)?;
        let ctx = self.context(&req.urn, 0.0)?;
        let olds = decode(req.olds.as_ref())?;
        let news = match req.news.as_ref().map(decode_struct).transpose() {
            Ok(news) => news.unwrap_or_default(),
            Err(e) => {
                // The error's text already starts with its path.
                let failure = contract::CheckFailure::new(PropertyPath::root(), e.to_string());
                return Ok(Response::new(rpc::CheckResponse {
                    inputs: req.news,
                    failures: failures(vec![failure]),
                }));
            }
        };
        let name = if req.name.is_empty() {
            req.urn.rsplit("::").next().unwrap_or_default()
        } else {
            &req.name
        };
        let proposed_name = req
            .autonaming
            .as_ref()
            .map(|a| a.proposed_name.as_str())
            .filter(|n| !n.is_empty());
        let checked = resource
            .check(
                &ctx,
                contract::CheckRequest {
                    name,
                    olds: &olds,
                    news,
                    random_seed: &req.random_seed,
                    proposed_name,
                },
            )
            .await
            .map_err(|e| resource_status(e, &Object::new()))?;
        Ok(Response::new(rpc::CheckResponse {
            inputs: encode(&checked.inputs),
            failures: failures(checked.failures),
        }))
    }

    async fn diff(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let req = request.into_inner();
        let resource = self.find(&req.r#type, &req.urn)?;
        let old = State {
            id: req.id.clone(),
            outputs: decode(req.olds.as_ref())?,
        };
        let diff = resource.diff(
            &decode(req.old_inputs.as_ref())?,
            &old,
            &decode(req.news.as_ref())?,
        );
        let top_level = |replace_only: bool| {
            let mut keys: Vec<String> = diff
                .changes
                .iter()
                .filter(|c| c.replace || !replace_only)
                .filter_map(|c| match c.path.0.first() {
                    Some(crate::value::Segment::Key(k)) => Some(k.clone()),
                    _ => None,
                })
                .collect();
            keys.dedup();
            keys
        };
        let replaces = top_level(true);
        let diffs = top_level(false);
        let detailed_diff = diff
            .changes
            .iter()
            .map(|c| {
                use rpc::property_diff::Kind;
                let kind = match (c.kind, c.replace) {
                    (ChangeKind::Add, false) => Kind::Add,
                    (ChangeKind::Add, true) => Kind::AddReplace,
                    (ChangeKind::Delete, false) => Kind::Delete,
                    (ChangeKind::Delete, true) => Kind::DeleteReplace,
                    (ChangeKind::Update, false) => Kind::Update,
                    (ChangeKind::Update, true) => Kind::UpdateReplace,
                };
                (
                    c.path.to_string(),
                    rpc::PropertyDiff {
                        kind: kind as i32,
                        input_diff: true,
                    },
                )
            })
            .collect();
        let changes = if diff.changes.is_empty() {
            rpc::diff_response::DiffChanges::DiffNone
        } else {
            rpc::diff_response::DiffChanges::DiffSome
        };
        Ok(Response::new(rpc::DiffResponse {
            replaces,
            stables: Vec::new(),
            delete_before_replace: diff.delete_before_replace,
            changes: changes as i32,
            diffs,
            detailed_diff,
            has_detailed_diff: true,
        }))
    }

    async fn create(
        &self,
        request: Request<rpc::CreateRequest>,
    ) -> Result<Response<rpc::CreateResponse>, Status> {
        let req = request.into_inner();
        let resource = self.find(&req.r#type, &req.urn)?;
        let ctx = self.context(&req.urn, req.timeout)?;
        let inputs = decode(req.properties.as_ref())?;
        let state = resource
            .create(&ctx, &inputs, req.preview)
            .await
            .map_err(|e| resource_status(e, &inputs))?;
        Ok(Response::new(rpc::CreateResponse {
            id: state.id,
            properties: encode(&state.outputs),
        }))
    }

    async fn read(
        &self,
        request: Request<rpc::ReadRequest>,
    ) -> Result<Response<rpc::ReadResponse>, Status> {
        let req = request.into_inner();
        let resource = self.find(&req.r#type, &req.urn)?;
        let ctx = self.context(&req.urn, req.timeout)?;
        let inputs = decode(req.inputs.as_ref())?;
        // An import may come with only the outputs (or nothing) recorded.
        let recorded = if inputs.is_empty() {
            decode(req.properties.as_ref())?
        } else {
            inputs
        };
        let found = resource
            .read(&ctx, &req.id, &recorded)
            .await
            .map_err(|e| resource_status(e, &recorded))?;
        Ok(Response::new(match found {
            None => rpc::ReadResponse::default(),
            Some(read) => rpc::ReadResponse {
                id: read.state.id,
                properties: encode(&read.state.outputs),
                inputs: encode(&read.inputs),
            },
        }))
    }

    async fn update(
        &self,
        request: Request<rpc::UpdateRequest>,
    ) -> Result<Response<rpc::UpdateResponse>, Status> {
        let req = request.into_inner();
        let resource = self.find(&req.r#type, &req.urn)?;
        let ctx = self.context(&req.urn, req.timeout)?;
        let old = State {
            id: req.id,
            outputs: decode(req.olds.as_ref())?,
        };
        let news = decode(req.news.as_ref())?;
        let state = resource
            .update(&ctx, &old, &news, req.preview)
            .await
            .map_err(|e| resource_status(e, &news))?;
        Ok(Response::new(rpc::UpdateResponse {
            properties: encode(&state.outputs),
        }))
    }

    async fn delete(&self, request: Request<rpc::DeleteRequest>) -> Result<Response<()>, Status> {
        let req = request.into_inner();
        let resource = self.find(&req.r#type, &req.urn)?;
        let ctx = self.context(&req.urn, req.timeout)?;
        let old = State {
            id: req.id,
            outputs: decode(req.properties.as_ref())?,
        };
        resource
            .delete(&ctx, &old)
            .await
            .map_err(|e| resource_status(e, &Object::new()))?;
        Ok(Response::new(()))
    }

    /// A lookup ([`resources::LOOKUPS`]): the object the arguments name, as the cluster has
    /// it. A missing argument is a failure naming it; a missing object an error.
    async fn invoke(
        &self,
        request: Request<rpc::InvokeRequest>,
    ) -> Result<Response<rpc::InvokeResponse>, Status> {
        let req = request.into_inner();
        let lookup = resources::find_lookup(&req.tok)
            .ok_or_else(|| Status::invalid_argument(format!("unknown function {:?}", req.tok)))?;
        let args = decode(req.args.as_ref())?;
        let text = |key: &str| args.get(key).and_then(Value::as_str).map(str::to_string);
        let missing: Vec<rpc::CheckFailure> = lookup
            .query()
            .into_iter()
            .filter(|(p, required)| *required && text(&p.name).is_none())
            .map(|(p, _)| rpc::CheckFailure {
                property: p.name.clone(),
                reason: format!("{}: required, a string", p.name),
            })
            .collect();
        if !missing.is_empty() {
            return Ok(Response::new(rpc::InvokeResponse {
                r#return: None,
                failures: missing,
            }));
        }
        let (api_version, kind) = match lookup.fixed_type {
            Some((api_version, kind)) => (api_version.to_string(), kind.to_string()),
            None => (
                text("apiVersion").unwrap_or_default(),
                text("kind").unwrap_or_default(),
            ),
        };
        let (name, namespace) = (text("name").unwrap_or_default(), text("namespace"));
        let query = resources::Lookup {
            api_version: &api_version,
            kind: &kind,
            name: &name,
            namespace: namespace.as_deref(),
        };
        let ctx = self.context(&req.tok, 0.0)?;
        let found = resources::lookup(&ctx, &query)
            .await
            .map_err(|e| Status::not_found(format!("{kind} {name:?}: {e}")))?
            .ok_or_else(|| {
                Status::not_found(format!(
                    "{kind} {name:?} not found: no such object in the cluster"
                ))
            })?;
        let mut object = found.outputs;
        if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
            metadata.remove("managedFields");
        }
        object.insert("id".into(), Value::String(found.id));
        Ok(Response::new(rpc::InvokeResponse {
            r#return: encode(&object),
            failures: Vec::new(),
        }))
    }

    async fn cancel(&self, _: Request<()>) -> Result<Response<()>, Status> {
        self.cancel.cancel();
        Ok(Response::new(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_failures_carry_the_path_in_the_reason_for_the_cli_to_show() {
        let sent = failures(vec![
            contract::CheckFailure::new(
                PropertyPath::dotted("spec.replicas"),
                r#"expected integer, got string "three""#,
            ),
            contract::CheckFailure::new(
                PropertyPath::root(),
                "minReplicas must not exceed maxReplicas",
            ),
        ]);
        let pairs: Vec<(&str, &str)> = sent
            .iter()
            .map(|f| (f.property.as_str(), f.reason.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("", r#"spec.replicas: expected integer, got string "three""#),
                ("", "minReplicas must not exceed maxReplicas"),
            ]
        );
    }
}
