//! Any bytes the engine might send as a `google.protobuf.Struct` decode into property values or
//! a clear error, never a panic; what decodes encodes back to the same values.
#![no_main]

use aiservice::value::Value;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(message) = prost_types::Struct::decode(data) else {
        return;
    };
    if let Ok(values) = Value::from_struct(&message) {
        let again = Value::from_struct(&Value::to_struct(&values));
        assert_eq!(again.as_ref(), Ok(&values));
        let _ = Value::Object(values).to_json();
    }
});
