//! The Pulumi engine's floor for `make bench`: a resource provider that answers every call at
//! once with its inputs and talks to no cluster. Installed as `pulumi-resource-aiservice` in
//! a directory of its own, it runs the benchmark's programs unchanged; whatever time remains
//! is the engine's, the language host's and the CLI's, which no provider can save.

use aiservice::proto::pulumirpc::{self as rpc, resource_provider_server::ResourceProvider};
use tonic::{Request, Response, Status};

struct NullProvider;

type Answer<T> = Result<Response<T>, Status>;

/// Changed when any input changed, so an update of the program reaches `Update` as with a
/// real provider.
fn diff(
    olds: Option<&prost_types::Struct>,
    news: Option<&prost_types::Struct>,
) -> rpc::DiffResponse {
    let (olds, news) = (
        olds.cloned().unwrap_or_default(),
        news.cloned().unwrap_or_default(),
    );
    let diffs: Vec<String> = news
        .fields
        .keys()
        .chain(olds.fields.keys())
        .filter(|k| olds.fields.get(*k) != news.fields.get(*k))
        .cloned()
        .collect();
    rpc::DiffResponse {
        changes: if diffs.is_empty() {
            rpc::diff_response::DiffChanges::DiffNone
        } else {
            rpc::diff_response::DiffChanges::DiffSome
        } as i32,
        diffs,
        ..Default::default()
    }
}

/// The resource's name from its URN (`urn:pulumi:stack::project::type::name`), as its id.
fn id_of(urn: &str) -> String {
    urn.rsplit("::").next().unwrap_or(urn).to_string()
}

#[tonic::async_trait]
impl ResourceProvider for NullProvider {
    async fn handshake(
        &self,
        _: Request<rpc::ProviderHandshakeRequest>,
    ) -> Answer<rpc::ProviderHandshakeResponse> {
        Ok(Response::new(rpc::ProviderHandshakeResponse {
            accept_secrets: true,
            accept_resources: true,
            ..Default::default()
        }))
    }

    async fn get_schema(
        &self,
        _: Request<rpc::GetSchemaRequest>,
    ) -> Answer<rpc::GetSchemaResponse> {
        Ok(Response::new(rpc::GetSchemaResponse {
            schema: aiservice::schema::schema_json(),
        }))
    }

    async fn check_config(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Answer<rpc::CheckResponse> {
        Ok(Response::new(rpc::CheckResponse {
            inputs: request.into_inner().news,
            failures: Vec::new(),
        }))
    }

    async fn diff_config(&self, request: Request<rpc::DiffRequest>) -> Answer<rpc::DiffResponse> {
        let req = request.into_inner();
        Ok(Response::new(diff(
            req.old_inputs.as_ref(),
            req.news.as_ref(),
        )))
    }

    async fn configure(&self, _: Request<rpc::ConfigureRequest>) -> Answer<rpc::ConfigureResponse> {
        Ok(Response::new(rpc::ConfigureResponse {
            accept_secrets: true,
            supports_preview: true,
            accept_resources: true,
            ..Default::default()
        }))
    }

    async fn check(&self, request: Request<rpc::CheckRequest>) -> Answer<rpc::CheckResponse> {
        Ok(Response::new(rpc::CheckResponse {
            inputs: request.into_inner().news,
            failures: Vec::new(),
        }))
    }

    async fn diff(&self, request: Request<rpc::DiffRequest>) -> Answer<rpc::DiffResponse> {
        let req = request.into_inner();
        Ok(Response::new(diff(
            req.old_inputs.as_ref().or(req.olds.as_ref()),
            req.news.as_ref(),
        )))
    }

    async fn create(&self, request: Request<rpc::CreateRequest>) -> Answer<rpc::CreateResponse> {
        let req = request.into_inner();
        Ok(Response::new(rpc::CreateResponse {
            id: id_of(&req.urn),
            properties: req.properties,
        }))
    }

    async fn read(&self, request: Request<rpc::ReadRequest>) -> Answer<rpc::ReadResponse> {
        let req = request.into_inner();
        Ok(Response::new(rpc::ReadResponse {
            id: req.id,
            properties: req.properties,
            inputs: req.inputs,
        }))
    }

    /// A lookup answers with its arguments (the benchmarks call none).
    async fn invoke(&self, request: Request<rpc::InvokeRequest>) -> Answer<rpc::InvokeResponse> {
        Ok(Response::new(rpc::InvokeResponse {
            r#return: request.into_inner().args,
            failures: Vec::new(),
        }))
    }

    /// The benchmarks' programs use no component.
    async fn construct(&self, _: Request<rpc::ConstructRequest>) -> Answer<rpc::ConstructResponse> {
        Err(tonic::Status::unimplemented(
            "the null provider builds no components",
        ))
    }

    /// The benchmarks' programs use no CRD package.
    async fn parameterize(
        &self,
        _: Request<rpc::ParameterizeRequest>,
    ) -> Answer<rpc::ParameterizeResponse> {
        Err(tonic::Status::unimplemented(
            "the null provider serves no CRD packages",
        ))
    }

    async fn update(&self, request: Request<rpc::UpdateRequest>) -> Answer<rpc::UpdateResponse> {
        Ok(Response::new(rpc::UpdateResponse {
            properties: request.into_inner().news,
        }))
    }

    async fn delete(&self, _: Request<rpc::DeleteRequest>) -> Answer<()> {
        Ok(Response::new(()))
    }

    async fn cancel(&self, _: Request<()>) -> Answer<()> {
        Ok(Response::new(()))
    }

    async fn get_plugin_info(&self, _: Request<()>) -> Answer<rpc::PluginInfo> {
        Ok(Response::new(rpc::PluginInfo {
            version: aiservice::VERSION.to_string(),
        }))
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // The same RPC timing as the real provider (`AISERVICE_RPC_TIMINGS`), nothing logged.
    let _timings = aiservice::rpc_timing::init_logging("warn");
    aiservice::pulumi::serve_provider(NullProvider).await
}
