//! Terraform's values on the wire: a type written as JSON (`"string"`, `["map","string"]`,
//! `["object",{...}]`, `"dynamic"`) and a value encoded with that type as MessagePack, or as
//! JSON in stored state. Converts them from and to the shared [`Value`] model.
//!
//! Two wire rules shape this file: an unknown is the MessagePack extension type 0 (newer CLIs
//! send type 12, an unknown with refinements), and a value whose schema type is `dynamic`
//! travels as a pair `[type as JSON, value]` so the receiver learns its real type.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use crate::value::{Object, PropertyPath, Value};

const UNKNOWN_EXT: i8 = 0;
const REFINED_UNKNOWN_EXT: i8 = 12;

/// A Terraform type.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    String,
    Number,
    Bool,
    /// Any type; the value carries its own.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

/// A value that does not fit the type it was sent with.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct CtyError {
    pub path: PropertyPath,
    pub reason: String,
}

fn error(path: &PropertyPath, reason: impl Into<String>) -> CtyError {
    CtyError {
        path: path.clone(),
        reason: reason.into(),
    }
}

impl Type {
    pub fn from_json(json: &serde_json::Value) -> Result<Type, String> {
        use serde_json::Value as J;
        Ok(match json {
            J::String(s) => match s.as_str() {
                "string" => Type::String,
                "number" => Type::Number,
                "bool" => Type::Bool,
                "dynamic" => Type::Dynamic,
                other => return Err(format!("unknown primitive type {other:?}")),
            },
            J::Array(parts) => match (parts.first().and_then(J::as_str), parts.get(1)) {
                (Some("list"), Some(e)) => Type::List(Box::new(Type::from_json(e)?)),
                (Some("set"), Some(e)) => Type::Set(Box::new(Type::from_json(e)?)),
                (Some("map"), Some(e)) => Type::Map(Box::new(Type::from_json(e)?)),
                (Some("object"), Some(J::Object(attrs))) => Type::Object(
                    attrs
                        .iter()
                        .map(|(k, t)| Ok((k.clone(), Type::from_json(t)?)))
                        .collect::<Result<_, String>>()?,
                ),
                (Some("tuple"), Some(J::Array(elems))) => Type::Tuple(
                    elems
                        .iter()
                        .map(Type::from_json)
                        .collect::<Result<_, String>>()?,
                ),
                _ => return Err(format!("unknown type {json}")),
            },
            other => return Err(format!("unknown type {other}")),
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::Dynamic => json!("dynamic"),
            Type::List(e) => json!(["list", e.to_json()]),
            Type::Set(e) => json!(["set", e.to_json()]),
            Type::Map(e) => json!(["map", e.to_json()]),
            Type::Object(attrs) => json!([
                "object",
                attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect::<serde_json::Map<_, _>>()
            ]),
            Type::Tuple(elems) => {
                json!(["tuple", elems.iter().map(Type::to_json).collect::<Vec<_>>()])
            }
        }
    }

    /// The type Terraform's own syntax gives such a value: an object for a map of fields, a
    /// tuple for an array, so a value from the cluster compares equal to the same literal
    /// written in a configuration.
    pub fn of(value: &Value) -> Type {
        match value {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) | Value::ResourceRef { .. } => Type::String,
            Value::Array(items) => Type::Tuple(items.iter().map(Type::of).collect()),
            Value::Object(fields) => Type::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Type::of(v)))
                    .collect(),
            ),
            Value::Secret(inner) => Type::of(inner),
        }
    }
}

/// Decodes a MessagePack value of type `ty`; `path` names where it sits, for errors.
pub fn decode(mp: &Mp, ty: &Type, path: &PropertyPath) -> Result<Value, CtyError> {
    match mp {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(UNKNOWN_EXT | REFINED_UNKNOWN_EXT, _) => return Ok(Value::Unknown),
        _ => {}
    }
    match ty {
        Type::Dynamic => {
            let Mp::Array(pair) = mp else {
                return Err(error(
                    path,
                    "expected a [type, value] pair for a dynamic value",
                ));
            };
            let [ty_json, inner] = pair.as_slice() else {
                return Err(error(
                    path,
                    "expected a [type, value] pair for a dynamic value",
                ));
            };
            let bytes = match ty_json {
                Mp::Binary(b) => b.as_slice(),
                Mp::String(s) => s.as_bytes(),
                _ => return Err(error(path, "expected the type of a dynamic value as JSON")),
            };
            let ty = serde_json::from_slice(bytes)
                .map_err(|e| e.to_string())
                .and_then(|j| Type::from_json(&j))
                .map_err(|e| error(path, e))?;
            decode(inner, &ty, path)
        }
        Type::String => match mp {
            Mp::String(s) => Ok(Value::String(s.as_str().unwrap_or_default().to_string())),
            _ => Err(error(path, "expected a string")),
        },
        Type::Number => number(mp)
            .map(Value::Number)
            .ok_or_else(|| error(path, "expected a number")),
        Type::Bool => match mp {
            Mp::Boolean(b) => Ok(Value::Bool(*b)),
            _ => Err(error(path, "expected a bool")),
        },
        Type::List(elem) | Type::Set(elem) => match mp {
            Mp::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| decode(item, elem, &path.index(i)))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            _ => Err(error(path, "expected a list")),
        },
        Type::Tuple(elems) => match mp {
            Mp::Array(items) if items.len() == elems.len() => items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, ty))| decode(item, ty, &path.index(i)))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            _ => Err(error(path, format!("expected a tuple of {}", elems.len()))),
        },
        Type::Map(elem) => entries(mp, path)?
            .map(|(k, v)| Ok((k.to_string(), decode(v, elem, &path.key(k))?)))
            .collect::<Result<Object, _>>()
            .map(Value::Object),
        Type::Object(attrs) => {
            let mut fields = Object::new();
            for (k, v) in entries(mp, path)? {
                let ty = attrs
                    .get(k)
                    .ok_or_else(|| error(&path.key(k), "not an attribute of this object type"))?;
                fields.insert(k.to_string(), decode(v, ty, &path.key(k))?);
            }
            Ok(Value::Object(fields))
        }
    }
}

fn entries<'a>(
    mp: &'a Mp,
    path: &PropertyPath,
) -> Result<impl Iterator<Item = (&'a str, &'a Mp)>, CtyError> {
    let Mp::Map(pairs) = mp else {
        return Err(error(path, "expected a map or an object"));
    };
    if pairs.iter().any(|(k, _)| k.as_str().is_none()) {
        return Err(error(path, "expected string keys"));
    }
    Ok(pairs.iter().filter_map(|(k, v)| Some((k.as_str()?, v))))
}

fn number(mp: &Mp) -> Option<f64> {
    match mp {
        Mp::Integer(i) => i
            .as_i64()
            .map(|n| n as f64)
            .or(i.as_u64().map(|n| n as f64)),
        Mp::F32(f) => Some(f64::from(*f)),
        Mp::F64(f) => Some(*f),
        // Numbers too large for 64 bits travel as decimal strings.
        Mp::String(s) => s.as_str()?.parse().ok(),
        _ => None,
    }
}

/// Encodes a value as type `ty`. The caller picks `ty` from the schema or [`Type::of`]; a
/// value that does not fit (which only a bug of ours could cause) is sent as null.
pub fn encode(value: &Value, ty: &Type) -> Mp {
    match (value, ty) {
        (Value::Secret(inner), _) => encode(inner, ty),
        (Value::Unknown, _) => Mp::Ext(UNKNOWN_EXT, vec![0]),
        (Value::Null, _) => Mp::Nil,
        (_, Type::Dynamic) => {
            let ty = Type::of(value);
            Mp::Array(vec![
                Mp::Binary(ty.to_json().to_string().into_bytes()),
                encode(value, &ty),
            ])
        }
        (Value::String(s), Type::String) => Mp::from(s.as_str()),
        (Value::ResourceRef { urn, .. }, Type::String) => Mp::from(urn.as_str()),
        (Value::Number(n), Type::Number) => encode_number(*n),
        (Value::Bool(b), Type::Bool) => Mp::Boolean(*b),
        (Value::Array(items), Type::List(elem) | Type::Set(elem)) => {
            Mp::Array(items.iter().map(|v| encode(v, elem)).collect())
        }
        (Value::Array(items), Type::Tuple(elems)) => {
            Mp::Array(items.iter().zip(elems).map(|(v, t)| encode(v, t)).collect())
        }
        (Value::Object(fields), Type::Map(elem)) => Mp::Map(
            fields
                .iter()
                .map(|(k, v)| (Mp::from(k.as_str()), encode(v, elem)))
                .collect(),
        ),
        (Value::Object(fields), Type::Object(attrs)) => Mp::Map(
            attrs
                .iter()
                .map(|(k, t)| {
                    let v = fields.get(k).unwrap_or(&Value::Null);
                    (Mp::from(k.as_str()), encode(v, t))
                })
                .collect(),
        ),
        _ => Mp::Nil,
    }
}

fn encode_number(n: f64) -> Mp {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Mp::from(n as i64)
    } else {
        Mp::F64(n)
    }
}

/// Re-encodes state stored as JSON (how the CLI keeps it on disk) as MessagePack of the same
/// type. A dynamic value is stored as `{"value": ..., "type": ...}`.
pub fn json_to_msgpack(
    json: &serde_json::Value,
    ty: &Type,
    path: &PropertyPath,
) -> Result<Mp, CtyError> {
    use serde_json::Value as J;
    Ok(match (json, ty) {
        (J::Null, _) => Mp::Nil,
        (J::Object(pair), Type::Dynamic) => {
            let inner_ty = pair
                .get("type")
                .ok_or_else(|| error(path, "stored dynamic value without its type"))
                .and_then(|t| Type::from_json(t).map_err(|e| error(path, e)))?;
            let inner = json_to_msgpack(pair.get("value").unwrap_or(&J::Null), &inner_ty, path)?;
            Mp::Array(vec![
                Mp::Binary(inner_ty.to_json().to_string().into_bytes()),
                inner,
            ])
        }
        (J::String(s), Type::String) => Mp::from(s.as_str()),
        (J::Number(n), Type::Number) => n
            .as_i64()
            .map(Mp::from)
            .or_else(|| n.as_f64().map(Mp::F64))
            .ok_or_else(|| error(path, "expected a number"))?,
        // Numbers too large for JSON's doubles are stored as strings.
        (J::String(s), Type::Number) => Mp::from(s.as_str()),
        (J::Bool(b), Type::Bool) => Mp::Boolean(*b),
        (J::Array(items), Type::List(elem) | Type::Set(elem)) => Mp::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| json_to_msgpack(v, elem, &path.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        (J::Array(items), Type::Tuple(elems)) if items.len() == elems.len() => Mp::Array(
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (v, t))| json_to_msgpack(v, t, &path.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        (J::Object(fields), Type::Map(elem)) => Mp::Map(
            fields
                .iter()
                .map(|(k, v)| {
                    Ok((
                        Mp::from(k.as_str()),
                        json_to_msgpack(v, elem, &path.key(k))?,
                    ))
                })
                .collect::<Result<_, CtyError>>()?,
        ),
        (J::Object(fields), Type::Object(attrs)) => Mp::Map(
            attrs
                .iter()
                .map(|(k, t)| {
                    let v = fields.get(k).unwrap_or(&J::Null);
                    Ok((Mp::from(k.as_str()), json_to_msgpack(v, t, &path.key(k))?))
                })
                .collect::<Result<_, CtyError>>()?,
        ),
        (other, ty) => {
            return Err(error(
                path,
                format!("stored value {other} does not fit type {}", ty.to_json()),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(json: serde_json::Value) -> Type {
        Type::from_json(&json).unwrap()
    }

    fn roundtrip(value: &Value, t: &Type) -> Value {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &encode(value, t)).unwrap();
        let mp = rmpv::decode::read_value(&mut bytes.as_slice()).unwrap();
        decode(&mp, t, &PropertyPath::root()).unwrap()
    }

    #[test]
    fn types_read_and_write_the_same_json() {
        let json = serde_json::json!(["object", {"a": ["list", "string"], "b": ["tuple", ["number", "dynamic"]], "c": ["map", "bool"]}]);
        assert_eq!(ty(json.clone()).to_json(), json);
        assert!(Type::from_json(&serde_json::json!("str")).is_err());
    }

    #[test]
    fn a_manifest_survives_a_dynamic_roundtrip() {
        let manifest = Value::from_json(&serde_json::json!({
            "apiVersion": "ai.example.com/v1",
            "metadata": {"name": "m", "labels": {"a.b/c": "d"}},
            "spec": {"replicas": 3, "ratio": 0.5, "on": true, "args": ["a", 1], "none": null},
        }));
        assert_eq!(roundtrip(&manifest, &Type::Dynamic), manifest);
    }

    #[test]
    fn unknowns_are_extension_zero_and_refined_ones_are_unknown_too() {
        let value = Value::Object([("name".to_string(), Value::Unknown)].into());
        assert_eq!(roundtrip(&value, &Type::Dynamic), value);
        let refined = Mp::Ext(REFINED_UNKNOWN_EXT, vec![0x80]);
        assert_eq!(
            decode(&refined, &Type::String, &PropertyPath::root()).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_path() {
        let t = ty(serde_json::json!(["object", {"spec": ["object", {"replicas": "number"}]}]));
        let mp = Mp::Map(vec![(
            Mp::from("spec"),
            Mp::Map(vec![(Mp::from("replicas"), Mp::from("three"))]),
        )]);
        let err = decode(&mp, &t, &PropertyPath::root()).unwrap_err();
        assert_eq!(err.to_string(), "spec.replicas: expected a number");
    }

    proptest::proptest! {
        /// Whatever bytes arrive, decoding returns a value or an error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            if let Ok(mp) = rmpv::decode::read_value(&mut bytes.as_slice()) {
                for t in [Type::Dynamic, ty(serde_json::json!(["object", {"manifest": "dynamic", "id": "string"}]))] {
                    let _ = decode(&mp, &t, &PropertyPath::root());
                }
            }
        }
    }

    #[test]
    fn stored_json_state_becomes_the_same_msgpack() {
        let t = ty(serde_json::json!(["object", {"id": "string", "manifest": "dynamic"}]));
        let stored = serde_json::json!({
            "id": "ns/m",
            "manifest": {"value": {"spec": {"replicas": 2}}, "type": ["object", {"spec": ["object", {"replicas": "number"}]}]},
        });
        let mp = json_to_msgpack(&stored, &t, &PropertyPath::root()).unwrap();
        let value = decode(&mp, &t, &PropertyPath::root()).unwrap();
        assert_eq!(
            value,
            Value::from_json(
                &serde_json::json!({"id": "ns/m", "manifest": {"spec": {"replicas": 2}}})
            )
        );
    }
}
