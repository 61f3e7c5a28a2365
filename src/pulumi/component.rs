//! Components (`Construct`): the provider registers the component and each of its children
//! with the engine's resource monitor, so the engine previews, creates, updates and deletes
//! every child as a resource of its own (Check and all, through this same provider). Which
//! children a component has is the protocol-neutral `resources::config_group`'s.

use std::path::Path;

use tokio::task::JoinSet;
use tonic::Status;

use crate::proto::pulumirpc::{self as rpc, resource_monitor_client::ResourceMonitorClient};
use crate::resources::config_group::{self, Child, ConfigGroupArgs, Stage};
use crate::value::{Object, Value};

use super::struct_codec::{decode_struct, encode_struct};

type Monitor = ResourceMonitorClient<tonic::transport::Channel>;

/// Registers the component `req` asks for and its children; returns its URN and outputs.
pub async fn construct(req: rpc::ConstructRequest) -> Result<rpc::ConstructResponse, Status> {
    if req.r#type != config_group::TOKEN {
        return Err(Status::invalid_argument(format!(
            "this provider has no component {:?}",
            req.r#type
        )));
    }
    let what = format!("{} {}", req.r#type, req.name);
    let invalid = |problem: String| Status::invalid_argument(format!("{what}: {problem}"));
    let inputs = req
        .inputs
        .as_ref()
        .map(decode_struct)
        .transpose()
        .map_err(|e| invalid(e.to_string()))?
        .unwrap_or_default();
    let mut monitor = ResourceMonitorClient::connect(format!("http://{}", req.monitor_endpoint))
        .await
        .map_err(|e| Status::unavailable(format!("{what}: cannot reach the engine: {e}")))?;
    let component = register(
        &mut monitor,
        &req,
        &what,
        rpc::RegisterResourceRequest {
            r#type: req.r#type.clone(),
            name: req.name.clone(),
            parent: req.parent.clone(),
            custom: false,
            dependencies: req.dependencies.clone(),
            ..Default::default()
        },
    )
    .await?;
    let whole = Value::Object(inputs);
    let outputs = if whole.contains_unknown() {
        // A preview of files or text known only after another resource is created: the
        // children are known then too.
        Object::from([("objects".to_string(), Value::Unknown)])
    } else {
        let json = whole.to_json().unwrap_or_default();
        let args: ConfigGroupArgs =
            serde_json::from_value(json).map_err(|e| invalid(e.to_string()))?;
        let mut children =
            config_group::children(&args, &req.name, Path::new("")).map_err(invalid)?;
        if !whole.secret_paths().is_empty() {
            children.iter_mut().for_each(keep_secret);
        }
        register_children(&monitor, &req, &what, &component, &children).await?;
        let labels = children.iter().map(|c| Value::String(c.label.clone()));
        Object::from([("objects".to_string(), Value::Array(labels.collect()))])
    };
    let state = encode_struct(&outputs);
    monitor
        .register_resource_outputs(rpc::RegisterResourceOutputsRequest {
            urn: component.clone(),
            outputs: Some(state.clone()),
        })
        .await
        .map_err(|s| Status::new(s.code(), format!("{what}: {}", s.message())))?;
    Ok(rpc::ConstructResponse {
        urn: component,
        state: Some(state),
    })
}

/// Objects read from secret text are secret: every field but what names the object
/// (`apiVersion`, `kind`, `metadata`), so a Secret's `data` is encrypted in the state and
/// masked in every diff, as it was in the program.
fn keep_secret(child: &mut Child) {
    for (field, value) in child.inputs.iter_mut() {
        if !matches!(field.as_str(), "apiVersion" | "kind" | "metadata") {
            *value = Value::Secret(Box::new(std::mem::replace(value, Value::Null)));
        }
    }
}

/// Registers the children stage by stage: every child of a stage at once, each depending on
/// the children of the stages before (CRDs, then namespaces, then the rest).
async fn register_children(
    monitor: &Monitor,
    req: &rpc::ConstructRequest,
    what: &str,
    component: &str,
    children: &[Child],
) -> Result<(), Status> {
    let provider = req.providers.get("aiservice").cloned().unwrap_or_default();
    let mut earlier = req.dependencies.clone();
    for stage in [Stage::Crd, Stage::Namespace, Stage::Object] {
        let mut registering = JoinSet::new();
        for child in children.iter().filter(|c| c.stage == stage) {
            let request = rpc::RegisterResourceRequest {
                r#type: child.token.to_string(),
                name: child.name.clone(),
                parent: component.to_string(),
                custom: true,
                object: Some(encode_struct(&child.inputs)),
                dependencies: earlier.clone(),
                provider: provider.clone(),
                ..Default::default()
            };
            let (mut monitor, req, what) = (monitor.clone(), req.clone(), what.to_string());
            registering.spawn(async move { register(&mut monitor, &req, &what, request).await });
        }
        let mut registered = Vec::new();
        while let Some(joined) = registering.join_next().await {
            let urn = joined.map_err(|e| Status::internal(format!("{what}: {e}")))??;
            registered.push(urn);
        }
        earlier.extend(registered);
    }
    Ok(())
}

/// Registers one resource with the options every resource of the component shares (those
/// the program set on the component); returns its URN.
async fn register(
    monitor: &mut Monitor,
    req: &rpc::ConstructRequest,
    what: &str,
    request: rpc::RegisterResourceRequest,
) -> Result<String, Status> {
    let request = rpc::RegisterResourceRequest {
        protect: req.protect,
        retain_on_delete: req.retain_on_delete,
        accept_secrets: true,
        ..request
    };
    let name = request.name.clone();
    monitor
        .register_resource(request)
        .await
        .map(|r| r.into_inner().urn)
        .map_err(|s| Status::new(s.code(), format!("{what}: {name}: {}", s.message())))
}
