//! How resource failures reach the engine: a gRPC status whose message names the object and
//! property, and for created-but-not-ready objects the `ErrorResourceInitFailed` detail that
//! keeps them in the engine's checkpoint.

use prost::Message;
use tonic::{Code, Status};

use crate::proto::google_rpc;
use crate::proto::pulumirpc::ErrorResourceInitFailed;
use crate::resource::ResourceError;
use crate::value::{Object, Value, ValueError};

pub fn resource_status(error: ResourceError, inputs: &Object) -> Status {
    match error {
        ResourceError::NotReady { state, reasons } => {
            let message = format!(
                "{} was created but is not ready: {}",
                state.id,
                reasons.join("; ")
            );
            let detail = ErrorResourceInitFailed {
                id: state.id,
                properties: Some(Value::to_struct(&state.outputs)),
                reasons,
                inputs: Some(Value::to_struct(inputs)),
            };
            let status = google_rpc::Status {
                code: Code::Unknown as i32,
                message: message.clone(),
                details: vec![prost_types::Any {
                    type_url: "type.googleapis.com/pulumirpc.ErrorResourceInitFailed".into(),
                    value: detail.encode_to_vec(),
                }],
            };
            Status::with_details(Code::Unknown, message, status.encode_to_vec().into())
        }
        ResourceError::Cancelled => Status::cancelled(error.to_string()),
        other => Status::unknown(other.to_string()),
    }
}

pub fn value_status(error: ValueError) -> Status {
    Status::invalid_argument(error.to_string())
}
