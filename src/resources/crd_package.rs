//! A package of CRDs: the custom resource kinds of CRD files (or of a cluster's CRDs of some
//! API groups), typed. Pulumi parameterization makes one: `pulumi package add aiservice
//! crds.yaml` asks the provider to parameterize itself with the files ([`PackageArgs`]), takes the package's schema
//! (`schema::crd_package`) and generates an SDK whose resources are the CRDs' kinds, one per
//! served version. The SDK carries the CRDs ([`CrdPackage::parameter`]) and hands them back
//! when a program runs ([`CrdPackage::from_parameter`]), so the provider serves those kinds
//! without the files and validates them against the packaged CRDs even with no cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

use super::manifests::{documents, yaml_files};

/// How `pulumi package add aiservice ...` is used, for messages.
pub const USAGE: &str = "[<CRD file or directory>]... [group=<API group of the cluster's CRDs>]... [name=<package>] [version=<semver>]";

/// CRDs typed as one package.
#[derive(Clone, Debug, PartialEq)]
pub struct CrdPackage {
    /// The package name: the first part of every token and the SDK's name.
    pub name: String,
    pub version: String,
    /// The CRDs, reduced to what typing and validation need (`metadata.name` and `spec`).
    pub crds: Vec<Value>,
}

/// One served version of a packaged CRD's kind: a resource of the package.
#[derive(Clone, Debug, PartialEq)]
pub struct PackagedKind {
    /// `<package>:<module>/<version>:<Kind>`, such as `kserve:serving/v1beta1:InferenceService`.
    pub token: String,
    /// The SDK module, `<module>/<version>`.
    pub module: String,
    pub api_version: String,
    pub kind: String,
    pub namespaced: bool,
    /// The version's `openAPIV3Schema` (`null` when the CRD gives none).
    pub schema: Value,
    /// The CRD's deprecation warning for this version, when it has one.
    pub deprecation: Option<String>,
}

/// What `pulumi package add aiservice <args>` asks for.
#[derive(Debug, Default, PartialEq)]
pub struct PackageArgs {
    name: Option<String>,
    version: Option<String>,
    /// CRD files and directories.
    paths: Vec<String>,
    /// API groups whose CRDs the cluster has (`group=`).
    pub groups: Vec<String>,
}

impl PackageArgs {
    /// Options are `key=value` (the CLI takes `--flags` as its own); anything else is a path
    /// (`./a=b.yaml` for a file whose name looks like an option).
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut parsed = Self::default();
        for arg in args {
            let option = arg
                .split_once('=')
                .filter(|(key, _)| key.chars().all(|c| c.is_ascii_alphabetic()));
            match option {
                Some(("name", value)) => parsed.name = Some(value.to_string()),
                Some(("version", value)) => parsed.version = Some(value.to_string()),
                Some(("group", value)) => parsed.groups.push(value.to_string()),
                Some((key, _)) => {
                    return Err(format!("unknown option {key}=; usage: {USAGE}"));
                }
                None => parsed.paths.push(arg.clone()),
            }
        }
        if parsed.paths.is_empty() && parsed.groups.is_empty() {
            return Err(format!("no CRD files or groups given; usage: {USAGE}"));
        }
        Ok(parsed)
    }

    /// The package of the CRDs in the files (relative to `base`) and of `live`, the CRDs of
    /// [`PackageArgs::groups`] the cluster has.
    pub fn package(self, base: &Path, live: Vec<Value>) -> Result<CrdPackage, String> {
        let mut crds = Vec::new();
        for path in &self.paths {
            for file in yaml_files(&base.join(path))? {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                let found = documents(&text).map_err(|e| format!("{}: {e}", file.display()))?;
                crds.extend(found.into_iter().filter(is_crd).map(reduced));
            }
        }
        if crds.is_empty() && !self.paths.is_empty() {
            return Err(format!(
                "no CustomResourceDefinition in {} (documents of other kinds are skipped)",
                self.paths.join(", ")
            ));
        }
        for group in &self.groups {
            let of_group: Vec<Value> = live
                .iter()
                .filter(|crd| crd["spec"]["group"] == group.as_str())
                .cloned()
                .map(reduced)
                .collect();
            if of_group.is_empty() {
                return Err(format!(
                    "the cluster has no CustomResourceDefinition of group {group}"
                ));
            }
            crds.extend(of_group);
        }
        let name = match self.name {
            Some(name) => name,
            None => default_name(&crds),
        };
        let version = self.version.unwrap_or_else(|| crate::VERSION.to_string());
        CrdPackage::new(name, version, crds)
    }
}

impl CrdPackage {
    /// The package an SDK hands back: its name and version, and the CRDs it was made of.
    pub fn from_parameter(name: &str, version: &str, parameter: &[u8]) -> Result<Self, String> {
        let value: Value = serde_json::from_slice(parameter)
            .map_err(|e| format!("the package's parameter is not what this provider made: {e}"))?;
        let crds = value["crds"]
            .as_array()
            .cloned()
            .ok_or("the package's parameter lists no CRDs")?;
        Self::new(name.to_string(), version.to_string(), crds)
    }

    fn new(name: String, version: String, crds: Vec<Value>) -> Result<Self, String> {
        let valid_name = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        // Our own package's name, and its Node.js SDK's (`@aiservice/pulumi`), are taken.
        let taken = [crate::schema::PACKAGE, "pulumi"];
        if !valid_name || taken.contains(&name.as_str()) {
            return Err(format!(
                "package name {name:?}: expected lowercase letters and digits, starting with a letter, other than {} (set one with name=<package>)",
                taken.map(|t| format!("{t:?}")).join(" and ")
            ));
        }
        let package = Self {
            name,
            version,
            crds,
        };
        let mut tokens = BTreeSet::new();
        for kind in package.kinds() {
            if !tokens.insert(kind.token.clone()) {
                return Err(format!(
                    "two CRDs define {} ({}): a package types each kind once",
                    kind.kind, kind.token
                ));
            }
        }
        Ok(package)
    }

    /// What the SDK carries: the CRDs, as JSON.
    pub fn parameter(&self) -> Vec<u8> {
        json!({"crds": self.crds}).to_string().into_bytes()
    }

    /// Every served version of every kind, in the order of the CRDs.
    pub fn kinds(&self) -> Vec<PackagedKind> {
        let modules = modules(&self.crds);
        let mut kinds = Vec::new();
        for crd in &self.crds {
            let spec = &crd["spec"];
            let (Some(group), Some(kind)) =
                (spec["group"].as_str(), spec["names"]["kind"].as_str())
            else {
                continue;
            };
            let module = &modules[group];
            for version in spec["versions"].as_array().into_iter().flatten() {
                let Some(name) = version["name"].as_str() else {
                    continue;
                };
                if version["served"] == false {
                    continue;
                }
                let deprecation = (version["deprecated"] == true).then(|| {
                    version["deprecationWarning"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("{group}/{name} {kind} is deprecated"))
                });
                kinds.push(PackagedKind {
                    token: format!("{}:{module}/{name}:{kind}", self.name),
                    module: format!("{module}/{name}"),
                    api_version: format!("{group}/{name}"),
                    kind: kind.to_string(),
                    namespaced: spec["scope"] != "Cluster",
                    schema: version["schema"]["openAPIV3Schema"].clone(),
                    deprecation,
                });
            }
        }
        kinds
    }
}

fn is_crd(document: &Value) -> bool {
    document["kind"] == "CustomResourceDefinition"
        && document["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("apiextensions.k8s.io/"))
}

/// A CRD without what typing and validation do not need (status, labels, annotations).
fn reduced(crd: Value) -> Value {
    json!({
        "apiVersion": crd["apiVersion"],
        "kind": crd["kind"],
        "metadata": {"name": crd["metadata"]["name"]},
        "spec": crd["spec"],
    })
}

/// A group's first label as a module name: `serving` for `serving.kserve.io`, `certmanager`
/// for `cert-manager.io`. Groups whose first labels collide keep every label but the last.
fn modules(crds: &[Value]) -> BTreeMap<String, String> {
    let groups: BTreeSet<&str> = crds
        .iter()
        .filter_map(|crd| crd["spec"]["group"].as_str())
        .collect();
    let short = |group: &str| identifier(group.split('.').next().unwrap_or(group));
    groups
        .iter()
        .map(|group| {
            let collides = groups
                .iter()
                .any(|other| other != group && short(other) == short(group));
            let module = if collides {
                let labels: Vec<&str> = group.split('.').collect();
                let kept = &labels[..labels.len().saturating_sub(1).max(1)];
                kept.iter()
                    .map(|l| identifier(l))
                    .collect::<Vec<_>>()
                    .join("_")
            } else {
                short(group)
            };
            (group.to_string(), module)
        })
        .collect()
}

/// Lowercase letters and digits only.
fn identifier(label: &str) -> String {
    label
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The organisation's domain label of the most common group: `kserve` for
/// `serving.kserve.io`, `keda` for `keda.sh`. Kubernetes' own domains (`k8s.io`,
/// `x-k8s.io`) say nothing, so the label before them names the package
/// (`gateway.networking.k8s.io` → `networking`).
fn default_name(crds: &[Value]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for group in crds.iter().filter_map(|crd| crd["spec"]["group"].as_str()) {
        *counts.entry(group).or_default() += 1;
    }
    let group = counts
        .iter()
        .max_by_key(|(group, count)| (**count, std::cmp::Reverse(**group)))
        .map(|(group, _)| *group)
        .unwrap_or_default();
    let mut labels: Vec<&str> = group.split('.').collect();
    labels.pop();
    if matches!(labels.last(), Some(&"k8s" | &"x-k8s")) && labels.len() > 1 {
        labels.pop();
    }
    let name = identifier(labels.last().copied().unwrap_or(group));
    if name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name
    } else {
        format!("crds{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(group: &str, kind: &str, versions: Value) -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{}s.{group}", kind.to_lowercase()), "labels": {"a": "b"}},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {"kind": kind, "plural": format!("{}s", kind.to_lowercase())},
                "versions": versions,
            },
            "status": {"acceptedNames": {}},
        })
    }

    fn served(name: &str) -> Value {
        json!({"name": name, "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}})
    }

    fn package(files: &[(&str, String)], args: &[&str]) -> Result<CrdPackage, String> {
        let dir = std::env::temp_dir().join(format!("crd-package-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let found = PackageArgs::parse(&args).and_then(|a| a.package(&dir, Vec::new()));
        std::fs::remove_dir_all(&dir).unwrap();
        found
    }

    fn yaml(documents: &[Value]) -> String {
        documents
            .iter()
            .map(|d| serde_yaml::to_string(d).unwrap())
            .collect::<Vec<_>>()
            .join("---\n")
    }

    #[test]
    fn kinds_are_one_per_served_version_in_group_modules() {
        let release = yaml(&[
            crd(
                "serving.kserve.io",
                "InferenceService",
                json!([served("v1beta1"), {"name": "v1alpha1", "served": false}]),
            ),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}),
            crd(
                "serving.kserve.io",
                "ServingRuntime",
                json!([served("v1alpha1"), {"name": "v1beta1", "served": true, "deprecated": true}]),
            ),
        ]);
        let package = package(&[("kserve.yaml", release)], &["kserve.yaml"]).unwrap();
        assert_eq!(package.name, "kserve");
        assert_eq!(package.version, crate::VERSION);
        let kinds = package.kinds();
        let kinds: Vec<(&str, &str, Option<&str>)> = kinds
            .iter()
            .map(|k| {
                (
                    k.token.as_str(),
                    k.api_version.as_str(),
                    k.deprecation.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    "kserve:serving/v1beta1:InferenceService",
                    "serving.kserve.io/v1beta1",
                    None
                ),
                (
                    "kserve:serving/v1alpha1:ServingRuntime",
                    "serving.kserve.io/v1alpha1",
                    None
                ),
                (
                    "kserve:serving/v1beta1:ServingRuntime",
                    "serving.kserve.io/v1beta1",
                    Some("serving.kserve.io/v1beta1 ServingRuntime is deprecated")
                ),
            ]
        );
        // Only what typing needs is carried.
        assert_eq!(
            package.crds[0]["metadata"],
            json!({"name": "inferenceservices.serving.kserve.io"})
        );
        assert!(package.crds[0].get("status").is_none());
    }

    #[test]
    fn the_parameter_carries_the_package_back() {
        let text = yaml(&[crd("keda.sh", "ScaledObject", json!([served("v1alpha1")]))]);
        let made = package(&[("keda.yaml", text)], &["version=2.16.0", "keda.yaml"]).unwrap();
        let back = CrdPackage::from_parameter("keda", "2.16.0", &made.parameter()).unwrap();
        assert_eq!(back, made);
    }

    #[test]
    fn names_and_modules_come_from_the_groups() {
        let gateway = crd(
            "gateway.networking.k8s.io",
            "Gateway",
            json!([served("v1")]),
        );
        let text = yaml(&[gateway]);
        assert_eq!(
            package(&[("g.yaml", text)], &["g.yaml"]).unwrap().name,
            "networking"
        );
        let collide = yaml(&[
            crd(
                "serving.kserve.io",
                "InferenceService",
                json!([served("v1")]),
            ),
            crd("serving.knative.dev", "Service", json!([served("v1")])),
        ]);
        let package = package(&[("c.yaml", collide)], &["name=mixed", "c.yaml"]).unwrap();
        let tokens: Vec<String> = package.kinds().into_iter().map(|k| k.token).collect();
        assert_eq!(
            tokens,
            [
                "mixed:serving_kserve/v1:InferenceService",
                "mixed:serving_knative/v1:Service"
            ]
        );
    }

    #[test]
    fn groups_take_the_clusters_crds_of_those_groups() {
        let live = vec![
            crd("keda.sh", "ScaledObject", json!([served("v1alpha1")])),
            crd("keda.sh", "ScaledJob", json!([served("v1alpha1")])),
            crd("other.example.com", "Widget", json!([served("v1")])),
        ];
        let args: Vec<String> = ["group=keda.sh"].map(String::from).to_vec();
        let package = PackageArgs::parse(&args)
            .unwrap()
            .package(Path::new("/nowhere"), live.clone())
            .unwrap();
        let tokens: Vec<String> = package.kinds().into_iter().map(|k| k.token).collect();
        assert_eq!(
            tokens,
            [
                "keda:keda/v1alpha1:ScaledObject",
                "keda:keda/v1alpha1:ScaledJob"
            ]
        );
        let absent: Vec<String> = ["group=none.example.com"].map(String::from).to_vec();
        assert_eq!(
            PackageArgs::parse(&absent)
                .unwrap()
                .package(Path::new("/nowhere"), live)
                .unwrap_err(),
            "the cluster has no CustomResourceDefinition of group none.example.com"
        );
    }

    #[test]
    fn problems_say_what_was_expected() {
        let no_crd =
            yaml(&[json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})]);
        assert_eq!(
            package(&[("a.yaml", no_crd)], &["a.yaml"]).unwrap_err(),
            "no CustomResourceDefinition in a.yaml (documents of other kinds are skipped)"
        );
        let one = yaml(&[crd("keda.sh", "ScaledObject", json!([served("v1alpha1")]))]);
        let bad_name = package(&[("k.yaml", one.clone())], &["name=Keda", "k.yaml"]).unwrap_err();
        assert!(
            bad_name.starts_with("package name \"Keda\": expected lowercase"),
            "{bad_name}"
        );
        assert!(
            package(&[], &["colour=x"])
                .unwrap_err()
                .starts_with("unknown option colour=")
        );
        assert!(
            package(&[], &[])
                .unwrap_err()
                .starts_with("no CRD files or groups given")
        );
        let twice = format!("{one}---\n{one}");
        assert_eq!(
            package(&[("k.yaml", twice)], &["k.yaml"]).unwrap_err(),
            "two CRDs define ScaledObject (keda:keda/v1alpha1:ScaledObject): a package types each kind once"
        );
    }
}
