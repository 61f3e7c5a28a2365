//! How resource failures reach the engine: a gRPC status whose message names the object and
//! property, and for created-but-not-ready objects the `ErrorResourceInitFailed` detail that
//! keeps them in the engine's checkpoint.

use prost::Message;
use tonic::{Code, Status};

use crate::contract::ResourceError;
use crate::proto::google_rpc;
use crate::proto::pulumirpc::ErrorResourceInitFailed;
use crate::value::Object;

use super::struct_codec::{ValueError, encode_struct};

pub fn resource_status(error: ResourceError, inputs: &Object) -> Status {
    let message = error.to_string();
    match error {
        ResourceError::NotReady { state, .. } => {
            let detail = ErrorResourceInitFailed {
                id: state.id,
                properties: Some(encode_struct(&state.outputs)),
                // The CLI shows these reasons instead of the message: each names the object.
                reasons: vec![message.clone()],
                inputs: Some(encode_struct(inputs)),
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
        ResourceError::Cancelled => Status::cancelled(message),
        _ => Status::unknown(message),
    }
}

pub fn value_status(error: ValueError) -> Status {
    Status::invalid_argument(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::State;

    #[test]
    fn not_ready_names_the_object_once_in_the_message_and_the_reasons_the_cli_shows() {
        let error = ResourceError::NotReady {
            object: "ModelServing team/x".into(),
            state: State {
                id: "team/x".into(),
                outputs: Object::new(),
            },
            reasons: vec!["timed out after 3s waiting for condition Ready to be True".into()],
        };
        let status = resource_status(error, &Object::new());
        let expected = "ModelServing team/x was created but is not ready: timed out after 3s waiting for condition Ready to be True";
        assert_eq!(status.message(), expected);
        let details = google_rpc::Status::decode(status.details()).unwrap();
        let detail = ErrorResourceInitFailed::decode(details.details[0].value.as_slice()).unwrap();
        assert_eq!(
            (detail.id.as_str(), detail.reasons),
            ("team/x", vec![expected.to_string()])
        );
    }
}
