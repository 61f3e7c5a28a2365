//! The operator's Helm chart, generated from [`bundle`](super::bundle) so the two cannot
//! drift: `aiservice-operator chart --out DIR` writes it unpacked, `packaging/chart` packages
//! it. Its values are the four [`BundleSettings`], with the same defaults and descriptions.
//!
//! The templates are the bundle's objects rendered with sentinel settings, every value that
//! carries a sentinel turned into a `{{ .Values.x }}` expression. So a setting reaches exactly
//! the fields the bundle puts it in, and `helm template` with some values renders
//! `objects(settings)` with the same settings (`tests/dist/helm.rs` checks it with real helm).
//! Generation fails when a sentinel survives, when a setting no longer appears in the bundle,
//! or when the bundle holds text Helm would read as a template.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::OPERATOR_NAME;
use super::bundle::{self, BundleSettings};

/// The sentinel strings: no other text of the bundle contains them, and none contains another.
const IMAGE: &str = "aiservice-chart-sentinel-image";
const NAMESPACE: &str = "aiservice-chart-sentinel-namespace";
const LOG_LEVEL: &str = "aiservice-chart-sentinel-log-level";
/// What every string sentinel starts with, to find strings that carry two.
const MARK: &str = "aiservice-chart-sentinel-";
/// The replicas sentinel: no other number of the bundle equals it (a unit test substitutes
/// settings back through the templates and compares with the bundle).
const REPLICAS: i32 = 987_654_321;
/// What a setting is while the objects are serialised: a plain YAML scalar, numbered.
const PLACEHOLDER: &str = "AISERVICE_CHART_EXPRESSION_";

/// One occurrence of a setting in the bundle: the values.yaml key, and the text around the
/// setting inside a string (`--log=` for `--log=<logLevel>`); `None` for a bare integer.
struct Occurrence<'a> {
    key: &'static str,
    around: Option<(&'a str, &'a str)>,
}

/// The bundle with sentinel settings, each value that carries one replaced by what `replace`
/// makes of it; also which values.yaml keys were seen. Fails on a string with two sentinels.
fn substituted(
    mut replace: impl FnMut(Occurrence) -> Value,
) -> Result<(Vec<Value>, Vec<&'static str>), String> {
    let sentinels = BundleSettings {
        image: IMAGE.into(),
        replicas: REPLICAS,
        namespace: NAMESPACE.into(),
        log_level: LOG_LEVEL.into(),
    };
    fn walk(
        value: &mut Value,
        seen: &mut Vec<&'static str>,
        replace: &mut dyn FnMut(Occurrence) -> Value,
    ) -> Result<(), String> {
        let occurrence = match value {
            Value::Array(items) => {
                return items.iter_mut().try_for_each(|v| walk(v, seen, replace));
            }
            Value::Object(map) => return map.values_mut().try_for_each(|v| walk(v, seen, replace)),
            Value::Number(n) if n.as_i64() == Some(REPLICAS.into()) => Occurrence {
                key: "replicas",
                around: None,
            },
            Value::String(s) if s.contains(MARK) => {
                if s.matches(MARK).count() > 1 {
                    return Err(format!("{s:?} carries two settings; the chart takes one"));
                }
                let (key, sentinel) = [
                    ("image", IMAGE),
                    ("namespace", NAMESPACE),
                    ("logLevel", LOG_LEVEL),
                ]
                .into_iter()
                .find(|(_, sentinel)| s.contains(sentinel))
                .ok_or_else(|| format!("{s:?} carries an unknown sentinel"))?;
                let (before, after) = s.split_once(sentinel).unwrap_or_default();
                Occurrence {
                    key,
                    around: Some((before, after)),
                }
            }
            _ => return Ok(()),
        };
        seen.push(occurrence.key);
        *value = replace(occurrence);
        Ok(())
    }
    let mut objects = bundle::objects(&sentinels);
    let mut seen = Vec::new();
    for object in &mut objects {
        walk(object, &mut seen, &mut replace)?;
    }
    Ok((objects, seen))
}

/// The values.yaml keys, in the order of [`BundleSettings`].
/// The annotation on the chart's CRDs that has `helm uninstall` leave them (with the
/// AIServices and ModelServings in the cluster); the one way the chart differs from the bundle.
pub const KEEP: (&str, &str) = ("helm.sh/resource-policy", "keep");

const KEYS: [&str; 4] = ["image", "replicas", "namespace", "logLevel"];

/// The chart's files: (path relative to the chart directory, contents).
pub fn files() -> Result<Vec<(String, String)>, String> {
    // Each setting becomes a placeholder (a plain YAML scalar, fixed width so that none is a
    // prefix of another); after serialising, each placeholder becomes its expression.
    let mut expressions: Vec<String> = Vec::new();
    let (objects, seen) = substituted(|occurrence| {
        let placeholder = format!("{PLACEHOLDER}{:04}", expressions.len());
        let value = format!(".Values.{}", occurrence.key);
        expressions.push(match occurrence.around {
            None => format!("{{{{ int {value} }}}}"),
            Some(("", "")) => format!("{{{{ {value} | quote }}}}"),
            Some((before, after)) => {
                // A Go string literal; JSON's escapes are valid Go escapes.
                let escape = |s: &str| s.replace('%', "%%");
                let format = format!("{}%v{}", escape(before), escape(after));
                let format = serde_json::to_string(&format).unwrap_or_default();
                format!("{{{{ printf {format} {value} | quote }}}}")
            }
        });
        Value::String(placeholder)
    })?;
    if let Some(missing) = KEYS.iter().find(|k| !seen.contains(k)) {
        return Err(format!("the bundle no longer uses the setting {missing}"));
    }

    let mut files = vec![
        ("Chart.yaml".to_string(), chart_yaml()),
        ("values.yaml".to_string(), values_yaml()),
        ("values.schema.json".to_string(), values_schema()),
    ];
    for (i, mut object) in objects.into_iter().enumerate() {
        let kind = object["kind"].as_str().unwrap_or_default().to_string();
        if kind == "CustomResourceDefinition" {
            object["metadata"]["annotations"][KEEP.0] = json!(KEEP.1);
        }
        let yaml = serde_yaml::to_string(&object).map_err(|e| e.to_string())?;
        if yaml.contains("{{") || yaml.contains("}}") {
            return Err(format!(
                "{kind} holds `{{{{` or `}}}}`, which Helm would read as a template"
            ));
        }
        let mut text = String::from(
            "# Generated by `aiservice-operator chart` from the operator bundle; do not edit.\n",
        );
        if kind == "CustomResourceDefinition" {
            // Helm installs crds/ once and never upgrades it; as templates, the CRDs follow
            // the chart on `helm upgrade`. Kept on `helm uninstall` (as Helm keeps crds/):
            // deleting a CRD deletes every AIService and ModelServing in the cluster.
            text.push_str(
                "# A template, not in crds/, so that `helm upgrade` upgrades it; `helm uninstall`\n\
                 # leaves it (and every object of its kind) in place: delete it with kubectl.\n",
            );
        }
        text.push_str(&yaml);
        for (n, expression) in expressions.iter().enumerate() {
            text = text.replace(&format!("{PLACEHOLDER}{n:04}"), expression);
        }
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let path = match name.starts_with(PLACEHOLDER) {
            true => format!("templates/{i:02}-{}.yaml", kind.to_lowercase()),
            false => format!("templates/{i:02}-{}-{name}.yaml", kind.to_lowercase()),
        };
        files.push((path, text));
    }
    let replicas = REPLICAS.to_string();
    for (path, text) in &files {
        let survivor = [MARK, &replicas, PLACEHOLDER]
            .into_iter()
            .find(|s| text.contains(*s));
        if let Some(survivor) = survivor {
            return Err(format!("{path} still holds the sentinel {survivor}"));
        }
    }
    Ok(files)
}

/// Writes the chart into `dir`, which must be empty or absent (a stale template from an
/// older bundle must never end up in a package). Returns the files written.
pub fn write(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    if dir
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(std::io::Error::other(format!(
            "{} is not empty",
            dir.display()
        )));
    }
    let files = files().map_err(std::io::Error::other)?;
    let mut written = Vec::new();
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

fn chart_yaml() -> String {
    let chart = json!({
        "apiVersion": "v2",
        "name": OPERATOR_NAME,
        "description": "The AIService operator: its CRDs, namespace, RBAC and Deployment, the same \
                        objects as `aiservice-operator bundle`.",
        "type": "application",
        "version": crate::VERSION,
        "appVersion": crate::VERSION,
    });
    serde_yaml::to_string(&chart).unwrap_or_default()
}

/// The JSON schema of [`BundleSettings`]: the descriptions of values.yaml, and Helm checks the
/// values against it (a misspelt type fails before anything is rendered).
fn values_schema() -> String {
    let schema = schemars::schema_for!(BundleSettings);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

/// The defaults, each under its description wrapped as comments.
fn values_yaml() -> String {
    let schema = schemars::schema_for!(BundleSettings).to_value();
    let defaults = serde_json::to_value(BundleSettings::default()).unwrap_or_default();
    let mut out = String::from(
        "# The settings of the operator, the same as those of `aiservice-operator bundle`\n\
         # and of the aiservice:index:Operator resource.\n",
    );
    for key in KEYS {
        let description = schema["properties"][key]["description"]
            .as_str()
            .unwrap_or_default();
        out.push('\n');
        let mut line = String::from("#");
        for word in description.split_whitespace() {
            if line.len() + word.len() >= 90 {
                let _ = writeln!(out, "{line}");
                line = String::from("#");
            }
            line = format!("{line} {word}");
        }
        let _ = writeln!(out, "{line}");
        if key == "namespace" {
            // Helm, unlike the provider, never takes over an object it did not create.
            out.push_str(
                "# The chart creates it: it must not exist (no --create-namespace for it).\n",
            );
        }
        let pair = serde_yaml::to_string(&json!({key: defaults[key]})).unwrap_or_default();
        out.push_str(&pair);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Vec<(String, String)> {
        files().unwrap_or_else(|e| panic!("{e}"))
    }

    fn file(name: &str) -> String {
        chart().into_iter().find(|(p, _)| p == name).unwrap().1
    }

    #[test]
    fn values_are_the_bundle_defaults() {
        let values: BundleSettings = serde_yaml::from_str(&file("values.yaml")).unwrap();
        assert_eq!(values, BundleSettings::default());
        let values: Value = serde_yaml::from_str(&file("values.yaml")).unwrap();
        assert_eq!(values.as_object().unwrap().len(), 4, "{values}");
    }

    #[test]
    fn values_say_what_each_setting_is() {
        let values = file("values.yaml");
        for said in [
            "# The operator's container image.",
            "# How many operator pods run",
            "leader",
            "# The operator's log filter",
        ] {
            assert!(values.contains(said), "{said:?} in:\n{values}");
        }
    }

    #[test]
    fn chart_carries_the_crate_version() {
        let chart: Value = serde_yaml::from_str(&file("Chart.yaml")).unwrap();
        assert_eq!(chart["apiVersion"], "v2");
        assert_eq!(chart["name"], "aiservice-operator");
        assert_eq!(chart["version"], crate::VERSION);
        assert_eq!(chart["appVersion"], crate::VERSION);
    }

    #[test]
    fn every_setting_becomes_an_expression() {
        let templates: String = chart()
            .into_iter()
            .filter(|(p, _)| p.starts_with("templates/"))
            .map(|(_, t)| t)
            .collect();
        for expected in [
            "image: {{ .Values.image | quote }}",
            "replicas: {{ int .Values.replicas }}",
            "namespace: {{ .Values.namespace | quote }}",
            "- {{ printf \"--log=%v\" .Values.logLevel | quote }}",
        ] {
            assert!(
                templates.contains(expected),
                "{expected:?} in:\n{templates}"
            );
        }
        assert!(!templates.contains(MARK));
    }

    /// The same walk with real settings in place of expressions gives the bundle of those
    /// settings: each sentinel stood for its setting and for nothing else.
    #[test]
    fn substituting_settings_back_gives_the_bundle() {
        let settings = BundleSettings {
            image: "registry.example.com/op:2".into(),
            replicas: 3,
            namespace: "ops".into(),
            log_level: "aiservice=debug".into(),
        };
        let (objects, seen) = substituted(|o| {
            let setting = match o.key {
                "image" => &settings.image,
                "namespace" => &settings.namespace,
                "logLevel" => &settings.log_level,
                _ => return json!(settings.replicas),
            };
            let (before, after) = o.around.unwrap();
            json!(format!("{before}{setting}{after}"))
        })
        .unwrap();
        assert_eq!(objects, bundle::objects(&settings));
        for key in KEYS {
            assert!(seen.contains(&key), "{key} is used");
        }
    }

    #[test]
    fn one_template_per_object_in_bundle_order() {
        let templates: Vec<String> = chart()
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| p.starts_with("templates/"))
            .collect();
        assert_eq!(
            templates.len(),
            bundle::objects(&BundleSettings::default()).len()
        );
        assert_eq!(
            templates[0],
            "templates/00-customresourcedefinition-aiservices.stable.example.com.yaml"
        );
        assert_eq!(templates[2], "templates/02-namespace.yaml");
        assert_eq!(
            templates[8],
            "templates/08-deployment-aiservice-operator.yaml"
        );
    }
}
