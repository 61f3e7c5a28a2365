//! `aiservice-null-terraform`: a Terraform provider that answers every call at once with its
//! inputs and never talks to a cluster, the floor `make bench` measures Terraform and
//! OpenTofu on. It starts exactly as `terraform-provider-aiservice` does (the go-plugin
//! handshake and mutual TLS of `aiservice::terraform::serve_provider`) and serves the same
//! schema, so the same configuration runs against it unchanged; the bench installs it under
//! that name in a directory of its own for `dev_overrides`.
//!
//! Plan: the proposed new state (computed attributes stay as proposed: null for a new
//! object, the prior value after). Apply: the planned state. Read: the current state.
//! Upgrade: the stored JSON as it is. Everything else succeeds with nothing to say.
//! A configuration with values unknown until apply is beyond it: apply returns the plan's
//! unknowns and the CLI refuses them.

use aiservice::proto::tfplugin6::{self as tf, provider_server};
use tonic::{Request, Response, Status};

struct NullProvider;

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl provider_server::Provider for NullProvider {
    async fn get_provider_schema(
        &self,
        _: Request<tf::get_provider_schema::Request>,
    ) -> Answer<tf::get_provider_schema::Response> {
        Ok(Response::new(aiservice::terraform::provider_schema()))
    }

    async fn validate_provider_config(
        &self,
        _: Request<tf::validate_provider_config::Request>,
    ) -> Answer<tf::validate_provider_config::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn validate_resource_config(
        &self,
        _: Request<tf::validate_resource_config::Request>,
    ) -> Answer<tf::validate_resource_config::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn validate_data_resource_config(
        &self,
        _: Request<tf::validate_data_resource_config::Request>,
    ) -> Answer<tf::validate_data_resource_config::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<tf::upgrade_resource_state::Request>,
    ) -> Answer<tf::upgrade_resource_state::Response> {
        // The CLI decodes a DynamicValue's JSON with the schema's type, as it stored it.
        let json = request.into_inner().raw_state.unwrap_or_default().json;
        Ok(Response::new(tf::upgrade_resource_state::Response {
            upgraded_state: Some(tf::DynamicValue {
                msgpack: Vec::new(),
                json,
            }),
            diagnostics: Vec::new(),
        }))
    }

    async fn configure_provider(
        &self,
        _: Request<tf::configure_provider::Request>,
    ) -> Answer<tf::configure_provider::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn read_resource(
        &self,
        request: Request<tf::read_resource::Request>,
    ) -> Answer<tf::read_resource::Response> {
        let req = request.into_inner();
        Ok(Response::new(tf::read_resource::Response {
            new_state: req.current_state,
            diagnostics: Vec::new(),
            private: req.private,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<tf::plan_resource_change::Request>,
    ) -> Answer<tf::plan_resource_change::Response> {
        let req = request.into_inner();
        Ok(Response::new(tf::plan_resource_change::Response {
            planned_state: req.proposed_new_state,
            requires_replace: Vec::new(),
            planned_private: req.prior_private,
            diagnostics: Vec::new(),
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<tf::apply_resource_change::Request>,
    ) -> Answer<tf::apply_resource_change::Response> {
        let req = request.into_inner();
        // A destroy's planned state is null: so is the new state.
        Ok(Response::new(tf::apply_resource_change::Response {
            new_state: req.planned_state,
            private: req.planned_private,
            diagnostics: Vec::new(),
        }))
    }

    async fn import_resource_state(
        &self,
        _: Request<tf::import_resource_state::Request>,
    ) -> Answer<tf::import_resource_state::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn read_data_source(
        &self,
        request: Request<tf::read_data_source::Request>,
    ) -> Answer<tf::read_data_source::Response> {
        Ok(Response::new(tf::read_data_source::Response {
            state: request.into_inner().config,
            diagnostics: Vec::new(),
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<tf::stop_provider::Request>,
    ) -> Answer<tf::stop_provider::Response> {
        Ok(Response::new(Default::default()))
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match aiservice::terraform::serve_provider(NullProvider).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
