//! Property values: the one model every protocol adapter and resource shares.
//!
//! A [`Value`] is JSON plus the three things an infrastructure-as-code engine adds: an
//! unknown (a value only known after apply), a secret wrapper and a resource reference. It
//! converts to the JSON the apiserver takes; each adapter has its wire codec (Pulumi's
//! `Struct` in `pulumi::struct_codec`, Terraform's msgpack in `terraform::cty`).

use std::collections::BTreeMap;
use std::fmt;

/// A property value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(BTreeMap<String, Value>),
    /// Known only after the engine applies the resources this value depends on.
    Unknown,
    /// A value whose plaintext must never be shown or logged.
    Secret(Box<Value>),
    /// A reference to another resource; Kubernetes sees its id.
    ResourceRef {
        urn: String,
        id: Option<Box<Value>>,
        package_version: String,
    },
}

/// A property value map, as resources take inputs and return outputs.
pub type Object = BTreeMap<String, Value>;

/// One step of a [`PropertyPath`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Where a value sits inside a resource's properties, printed the way Pulumi prints property
/// paths: `spec.versions[0].name`, `metadata.labels["app.kubernetes.io/name"]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct PropertyPath(pub Vec<Segment>);

impl PropertyPath {
    pub fn root() -> Self {
        Self::default()
    }

    /// Parses a dotted path of plain keys, such as `spec.names.plural`.
    pub fn dotted(path: &str) -> Self {
        Self(
            path.split('.')
                .map(|k| Segment::Key(k.to_string()))
                .collect(),
        )
    }

    pub fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_string()));
        next
    }

    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    pub fn starts_with(&self, prefix: &PropertyPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

/// A [`PropertyPath`] under construction while a walk descends into a value: each step
/// borrows its parent from the walker's stack, so walking allocates nothing, and a path is
/// made only when one is reported (a check failure, a change).
#[derive(Clone, Copy, Debug)]
pub enum Trail<'a> {
    /// Where the walk started.
    At(&'a PropertyPath),
    Key(&'a Trail<'a>, &'a str),
    Index(&'a Trail<'a>, usize),
}

impl<'a> Trail<'a> {
    pub fn key(&'a self, key: &'a str) -> Trail<'a> {
        Trail::Key(self, key)
    }

    pub fn index(&'a self, index: usize) -> Trail<'a> {
        Trail::Index(self, index)
    }

    /// Whether the walk is still where it started, at the root of the properties.
    pub fn is_root(&self) -> bool {
        matches!(self, Trail::At(path) if path.0.is_empty())
    }

    pub fn to_path(&self) -> PropertyPath {
        match self {
            Trail::At(path) => (*path).clone(),
            Trail::Key(parent, key) => {
                let mut path = parent.to_path();
                path.0.push(Segment::Key(key.to_string()));
                path
            }
            Trail::Index(parent, index) => {
                let mut path = parent.to_path();
                path.0.push(Segment::Index(*index));
                path
            }
        }
    }
}

impl fmt::Display for PropertyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Key(k) => write!(f, "[{}]", serde_json::Value::String(k.clone()))?,
            }
        }
        Ok(())
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

impl Value {
    /// The JSON the apiserver takes. Secrets are revealed (the apiserver needs the
    /// plaintext), resource references become their id. Fails with the path of the first
    /// unknown, which callers treat as "cannot be computed before apply".
    pub fn to_json(&self) -> Result<serde_json::Value, PropertyPath> {
        self.to_json_at(&PropertyPath::root())
    }

    fn to_json_at(&self, path: &PropertyPath) -> Result<serde_json::Value, PropertyPath> {
        Ok(match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => json_number(*n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Unknown => return Err(path.clone()),
            Value::Secret(inner) => inner.to_json_at(path)?,
            Value::ResourceRef { id: Some(id), .. } => id.to_json_at(path)?,
            Value::ResourceRef { id: None, .. } => return Err(path.clone()),
            Value::Array(items) => serde_json::Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.to_json_at(&path.index(i)))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(fields) => serde_json::Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.to_json_at(&path.key(k))?)))
                    .collect::<Result<_, PropertyPath>>()?,
            ),
        })
    }

    /// A plain value from the apiserver's JSON.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Whether this value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown | Value::ResourceRef { id: None, .. } => true,
            Value::Secret(inner) => inner.contains_unknown(),
            Value::ResourceRef { id: Some(id), .. } => id.contains_unknown(),
            Value::Array(items) => items.iter().any(Value::contains_unknown),
            Value::Object(fields) => fields.values().any(Value::contains_unknown),
            _ => false,
        }
    }

    /// The paths of every secret inside this value, outermost first.
    pub fn secret_paths(&self) -> Vec<PropertyPath> {
        let mut found = Vec::new();
        self.collect_secret_paths(&PropertyPath::root(), &mut found);
        found
    }

    fn collect_secret_paths(&self, path: &PropertyPath, found: &mut Vec<PropertyPath>) {
        match self {
            Value::Secret(_) => found.push(path.clone()),
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    v.collect_secret_paths(&path.index(i), found);
                }
            }
            Value::Object(fields) => {
                for (k, v) in fields {
                    v.collect_secret_paths(&path.key(k), found);
                }
            }
            _ => {}
        }
    }

    /// Wraps the value at `path` as a secret, if it exists and is not one already.
    pub fn mark_secret(&mut self, path: &[Segment]) {
        match (self, path.split_first()) {
            (Value::Secret(_), _) => {}
            (this, None) => *this = Value::Secret(Box::new(std::mem::replace(this, Value::Null))),
            (Value::Object(fields), Some((Segment::Key(k), rest))) => {
                if let Some(v) = fields.get_mut(k) {
                    v.mark_secret(rest);
                }
            }
            (Value::Array(items), Some((Segment::Index(i), rest))) => {
                if let Some(v) = items.get_mut(*i) {
                    v.mark_secret(rest);
                }
            }
            _ => {}
        }
    }

    /// The value at `path`, looking through secrets.
    pub fn get(&self, path: &[Segment]) -> Option<&Value> {
        match (self, path.split_first()) {
            (Value::Secret(inner), _) => inner.get(path),
            (this, None) => Some(this),
            (Value::Object(fields), Some((Segment::Key(k), rest))) => fields.get(k)?.get(rest),
            (Value::Array(items), Some((Segment::Index(i), rest))) => items.get(*i)?.get(rest),
            _ => None,
        }
    }

    /// The string at `path`, if it is a known string.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(&PropertyPath::dotted(path).0)?.as_str()
    }

    /// The string this value is, if it is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Unknown => "unknown",
            Value::Secret(inner) => inner.type_name(),
            Value::ResourceRef { .. } => "resource reference",
        }
    }
}

/// Copies every secret marking of `inputs` onto the same path in `outputs`, so a value that
/// went in as a secret comes back out as one.
pub fn carry_secrets(inputs: &Object, outputs: &mut Object) {
    let inputs = Value::Object(inputs.clone());
    let mut wrapped = Value::Object(std::mem::take(outputs));
    for path in inputs.secret_paths() {
        wrapped.mark_secret(&path.0);
    }
    if let Value::Object(fields) = wrapped {
        *outputs = fields;
    }
}

/// Integral numbers go to the apiserver as JSON integers (`replicas: 3`, not `3.0`).
fn json_number(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any value, nested a few levels deep.
    pub(crate) fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-1e12f64..1e12).prop_map(Value::Number),
            "[a-z0-9 ./-]{0,12}".prop_map(Value::String),
            Just(Value::Unknown),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z./]{1,8}", inner.clone(), 0..5)
                    .prop_map(Value::Object),
                inner.clone().prop_map(|v| Value::Secret(Box::new(v))),
                ("urn:pulumi:[a-z]{1,6}", prop::option::of(inner)).prop_map(|(urn, id)| {
                    Value::ResourceRef {
                        urn,
                        id: id.map(Box::new),
                        package_version: String::new(),
                    }
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn json_round_trip_of_known_values(value in arb_value()) {
            prop_assume!(!value.contains_unknown());
            let json = value.to_json().unwrap();
            let back = Value::from_json(&json);
            prop_assert_eq!(back.to_json().unwrap(), json);
        }

        #[test]
        fn carry_secrets_marks_every_input_secret_path(value in arb_value()) {
            prop_assume!(!value.contains_unknown());
            let inputs: Object = [("spec".to_string(), value.clone())].into();
            let plain = Value::from_json(&value.to_json().unwrap());
            let mut outputs: Object = [("spec".to_string(), plain)].into();
            carry_secrets(&inputs, &mut outputs);
            let outputs = Value::Object(outputs);
            for path in Value::Object(inputs).secret_paths() {
                prop_assert!(is_secret_at(&outputs, &path.0), "{} lost its secret marking", path);
            }
        }
    }

    /// Whether the value at `path`, or one of its parents, is a secret.
    fn is_secret_at(value: &Value, path: &[Segment]) -> bool {
        match (value, path.split_first()) {
            (Value::Secret(_), _) => true,
            (Value::Object(f), Some((Segment::Key(k), rest))) => {
                f.get(k).is_some_and(|v| is_secret_at(v, rest))
            }
            (Value::Array(a), Some((Segment::Index(i), rest))) => {
                a.get(*i).is_some_and(|v| is_secret_at(v, rest))
            }
            _ => false,
        }
    }

    #[test]
    fn paths_print_like_pulumi() {
        let path = PropertyPath::root()
            .key("metadata")
            .key("labels")
            .key("app.kubernetes.io/name");
        assert_eq!(
            path.to_string(),
            r#"metadata.labels["app.kubernetes.io/name"]"#
        );
        assert_eq!(
            PropertyPath::dotted("spec.versions")
                .index(0)
                .key("name")
                .to_string(),
            "spec.versions[0].name"
        );
    }

    #[test]
    fn integral_numbers_become_json_integers() {
        assert_eq!(Value::Number(3.0).to_json().unwrap().to_string(), "3");
        assert_eq!(Value::Number(0.5).to_json().unwrap().to_string(), "0.5");
    }

    #[test]
    fn unknown_position_is_reported() {
        let v = Value::Object(
            [(
                "spec".to_string(),
                Value::Array(vec![Value::Null, Value::Unknown]),
            )]
            .into(),
        );
        assert_eq!(v.to_json().unwrap_err().to_string(), "spec[1]");
    }
}
