//! Any bytes the engine might send as a `google.protobuf.Struct` decode into property values or
//! a clear error, never a panic; what decodes encodes back to the same values.
#![no_main]

use aiservice::pulumi::struct_codec::{decode_struct, encode_struct};
use aiservice::value::Value;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(message) = prost_types::Struct::decode(data) else {
        return;
    };
    if let Ok(values) = decode_struct(&message) {
        let again = decode_struct(&encode_struct(&values));
        assert_eq!(again.as_ref(), Ok(&values));
        let _ = Value::Object(values).to_json();
    }
});
