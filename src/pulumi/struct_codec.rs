//! Property values as the Pulumi engine sends them: a `google.protobuf.Struct` whose special
//! values (unknowns, secrets, resource references, outputs) are strings or objects tagged
//! with a signature key.

use std::collections::BTreeMap;

use prost_types::value::Kind;

use crate::value::{Object, PropertyPath, Value};

/// The string the engine sends for a value that is unknown until apply.
const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/// The key that marks an object as a special value; its string value says which.
const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
const SIG_SECRET: &str = "1b47061264138c4ac30d75fd1eb44270";
const SIG_RESOURCE_REF: &str = "5cf8f73096256a8f31e491e813e4eb8e";
const SIG_OUTPUT: &str = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const SIG_ASSET: &str = "c44067f5952c0a294b673a41bacd8c17";
const SIG_ARCHIVE: &str = "0def7320c3a5731c473e5ecbe6d01bc7";

/// Input the model cannot represent.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ValueError {
    #[error("{path}: {what} values are not supported by Kubernetes resources; use a string")]
    Unsupported {
        path: PropertyPath,
        what: &'static str,
    },
    #[error("{path}: malformed {what}: {reason}")]
    Malformed {
        path: PropertyPath,
        what: &'static str,
        reason: &'static str,
    },
    #[error("{path}: numbers must be finite")]
    NotFinite { path: PropertyPath },
}

/// Decodes an engine `Struct` into an object.
pub fn decode_struct(s: &prost_types::Struct) -> Result<Object, ValueError> {
    decode_fields(&s.fields, &PropertyPath::root())
}

/// Encodes an object as the engine's `Struct`.
pub fn encode_struct(object: &Object) -> prost_types::Struct {
    prost_types::Struct {
        fields: object.iter().map(|(k, v)| (k.clone(), encode(v))).collect(),
    }
}

fn encode(value: &Value) -> prost_types::Value {
    let kind = match value {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(*n),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Unknown => Kind::StringValue(UNKNOWN.to_string()),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(encode).collect(),
        }),
        Value::Object(fields) => Kind::StructValue(encode_struct(fields)),
        Value::Secret(inner) => {
            Kind::StructValue(special(SIG_SECRET, [("value".to_string(), encode(inner))]))
        }
        Value::ResourceRef {
            urn,
            id,
            package_version,
        } => {
            let mut fields = vec![("urn".to_string(), encode(&Value::String(urn.clone())))];
            if let Some(id) = id {
                fields.push(("id".to_string(), encode(id)));
            }
            if !package_version.is_empty() {
                let version = encode(&Value::String(package_version.clone()));
                fields.push(("packageVersion".to_string(), version));
            }
            Kind::StructValue(special(SIG_RESOURCE_REF, fields))
        }
    };
    prost_types::Value { kind: Some(kind) }
}

fn special(
    sig: &str,
    fields: impl IntoIterator<Item = (String, prost_types::Value)>,
) -> prost_types::Struct {
    let mut s = prost_types::Struct {
        fields: fields.into_iter().collect(),
    };
    s.fields.insert(
        SIG_KEY.to_string(),
        prost_types::Value {
            kind: Some(Kind::StringValue(sig.to_string())),
        },
    );
    s
}

fn decode_fields(
    fields: &BTreeMap<String, prost_types::Value>,
    path: &PropertyPath,
) -> Result<Object, ValueError> {
    fields
        .iter()
        .map(|(k, v)| Ok((k.clone(), decode(v, &path.key(k))?)))
        .collect()
}

fn decode(value: &prost_types::Value, path: &PropertyPath) -> Result<Value, ValueError> {
    Ok(match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) if n.is_finite() => Value::Number(*n),
        Some(Kind::NumberValue(_)) => return Err(ValueError::NotFinite { path: path.clone() }),
        Some(Kind::StringValue(s)) if s == UNKNOWN => Value::Unknown,
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(list)) => Value::Array(
            list.values
                .iter()
                .enumerate()
                .map(|(i, v)| decode(v, &path.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        Some(Kind::StructValue(s)) => match s.fields.get(SIG_KEY).and_then(|v| v.kind.as_ref()) {
            None => Value::Object(decode_fields(&s.fields, path)?),
            Some(Kind::StringValue(sig)) => decode_special(sig, &s.fields, path)?,
            Some(_) => {
                return Err(malformed(
                    path,
                    "special value",
                    "its signature is not a string",
                ));
            }
        },
    })
}

fn decode_special(
    sig: &str,
    fields: &BTreeMap<String, prost_types::Value>,
    path: &PropertyPath,
) -> Result<Value, ValueError> {
    let field = |name: &str| fields.get(name).map(|v| decode(v, path)).transpose();
    match sig {
        SIG_SECRET => match field("value")? {
            Some(inner) => Ok(Value::Secret(Box::new(inner))),
            None => Err(malformed(path, "secret", "it has no value")),
        },
        SIG_RESOURCE_REF => {
            let Some(Value::String(urn)) = field("urn")? else {
                return Err(malformed(
                    path,
                    "resource reference",
                    "its urn is not a string",
                ));
            };
            let package_version = match field("packageVersion")? {
                Some(Value::String(v)) => v,
                _ => String::new(),
            };
            Ok(Value::ResourceRef {
                urn,
                id: field("id")?.map(Box::new),
                package_version,
            })
        }
        SIG_OUTPUT => {
            let secret = matches!(field("secret")?, Some(Value::Bool(true)));
            let inner = field("value")?.unwrap_or(Value::Unknown);
            Ok(if secret {
                Value::Secret(Box::new(inner))
            } else {
                inner
            })
        }
        SIG_ASSET => Err(ValueError::Unsupported {
            path: path.clone(),
            what: "asset",
        }),
        SIG_ARCHIVE => Err(ValueError::Unsupported {
            path: path.clone(),
            what: "archive",
        }),
        _ => Err(malformed(
            path,
            "special value",
            "its signature is not one Pulumi defines",
        )),
    }
}

fn malformed(path: &PropertyPath, what: &'static str, reason: &'static str) -> ValueError {
    ValueError::Malformed {
        path: path.clone(),
        what,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::tests::arb_value;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn struct_round_trip_keeps_every_value(fields in prop::collection::btree_map("[a-z]{1,6}", arb_value(), 0..6)) {
            let decoded = decode_struct(&encode_struct(&fields)).unwrap();
            prop_assert_eq!(decoded, fields);
        }

        /// The stable-toolchain sibling of `fuzz/fuzz_targets/decode_struct.rs`.
        #[test]
        fn arbitrary_bytes_decode_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            use prost::Message;
            if let Ok(message) = prost_types::Struct::decode(bytes.as_slice())
                && let Ok(values) = decode_struct(&message)
            {
                prop_assert_eq!(decode_struct(&encode_struct(&values)), Ok(values));
            }
        }
    }

    #[test]
    fn assets_are_rejected_with_their_path() {
        let asset = special(
            SIG_ASSET,
            [("path".to_string(), encode(&Value::String("x".into())))],
        );
        let s = prost_types::Struct {
            fields: [(
                "spec".to_string(),
                prost_types::Value {
                    kind: Some(Kind::StructValue(asset)),
                },
            )]
            .into(),
        };
        let err = decode_struct(&s).unwrap_err();
        assert_eq!(
            err.to_string(),
            "spec: asset values are not supported by Kubernetes resources; use a string"
        );
    }
}
