//! Proof that our protocol files in `proto/` match the engine's own definitions, taken from
//! the PyPI `pulumi` package of the same version as the pulumi CLI (provisioned by
//! `tests/env/`), field by field:
//!
//! - every message we declare exists upstream, and each of our fields exists there with the
//!   same number, type, label (singular, proto3 `optional`, repeated, map), message or enum
//!   type, oneof and map key/value types;
//! - every upstream field of those messages that we leave out is in [`ALLOWED_OMISSIONS`] with
//!   a reason, so a field the engine adds fails this test until someone decides about it;
//! - every enum value we declare exists upstream with the same number;
//! - every RPC we declare exists upstream with the same request, response and streaming.
//!
//! `tests/proto_compat.py` dumps the upstream descriptors as JSON; this file builds the same
//! shape from `aiservice::proto::DESCRIPTOR_SET` and compares, listing every difference.
//!
//! The same comparison holds `proto/terraform/tfplugin6.proto` against the tfplugin6.proto of
//! the Go module `github.com/hashicorp/terraform-plugin-go` (provisioned by `tests/env/`),
//! compiled with the vendored protoc.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use aiservice_testenv::Tools;
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorSet};
use serde::Deserialize;

/// Upstream fields of the messages we declare that we leave out on purpose: the provider never
/// reads them, and the engine does not need them set. `message.field`, then why.
const ALLOWED_OMISSIONS: &[(&str, &str)] = &[
    // Handshake: engine services and capabilities we do not use.
    (
        "pulumirpc.ProviderHandshakeRequest.mapper_target",
        "we call no codegen.Mapper service",
    ),
    (
        "pulumirpc.ProviderHandshakeRequest.loader_target",
        "we load no schemas of other packages (codegen.Loader)",
    ),
    (
        "pulumirpc.ProviderHandshakeRequest.resolver_target",
        "we resolve no packages (PackageResolver)",
    ),
    (
        "pulumirpc.ProviderHandshakeRequest.accepts_byte_string",
        "we never return non-UTF-8 byte strings, so the engine's support is moot",
    ),
    (
        "pulumirpc.ProviderHandshakeResponse.accepts_byte_string",
        "false by omission: we take no byte-string values",
    ),
    // Views: we do not set supports_views and create no view resources through the
    // engine's ResourceStatus service.
    (
        "pulumirpc.CreateRequest.resource_status_address",
        "no view resources (ResourceStatus service)",
    ),
    (
        "pulumirpc.CreateRequest.resource_status_token",
        "no view resources (ResourceStatus service)",
    ),
    (
        "pulumirpc.ReadRequest.resource_status_address",
        "no view resources (ResourceStatus service)",
    ),
    (
        "pulumirpc.ReadRequest.resource_status_token",
        "no view resources (ResourceStatus service)",
    ),
    ("pulumirpc.ReadRequest.old_views", "no view resources"),
    (
        "pulumirpc.UpdateRequest.resource_status_address",
        "no view resources (ResourceStatus service)",
    ),
    (
        "pulumirpc.UpdateRequest.resource_status_token",
        "no view resources (ResourceStatus service)",
    ),
    ("pulumirpc.UpdateRequest.old_views", "no view resources"),
    (
        "pulumirpc.DeleteRequest.resource_status_address",
        "no view resources (ResourceStatus service)",
    ),
    (
        "pulumirpc.DeleteRequest.resource_status_token",
        "no view resources (ResourceStatus service)",
    ),
    ("pulumirpc.DeleteRequest.old_views", "no view resources"),
    // Refresh-before-update: we never ask the engine to refresh a resource before updating
    // it (false by omission).
    (
        "pulumirpc.CreateResponse.refresh_before_update",
        "we never request refresh before update",
    ),
    (
        "pulumirpc.ReadResponse.refresh_before_update",
        "we never request refresh before update",
    ),
    (
        "pulumirpc.UpdateResponse.refresh_before_update",
        "we never request refresh before update",
    ),
    (
        "pulumirpc.ErrorResourceInitFailed.refresh_before_update",
        "we never request refresh before update",
    ), // Construct (the ConfigGroup component): options that make no sense for, or are not
    // forwarded to, the objects it registers as its children.
    (
        "pulumirpc.ConstructRequest.config",
        "the provider's configuration reached it through Configure already",
    ),
    (
        "pulumirpc.ConstructRequest.parallel",
        "children are registered in dependency order by the component itself",
    ),
    (
        "pulumirpc.ConstructRequest.inputDependencies",
        "the inputs are file paths and YAML text; no child depends on another resource through them",
    ),
    (
        "pulumirpc.ConstructRequest.configSecretKeys",
        "no configuration is read from the request",
    ),
    (
        "pulumirpc.ConstructRequest.organization",
        "not needed to register children",
    ),
    (
        "pulumirpc.ConstructRequest.additionalSecretOutputs",
        "the component's outputs name objects, never secret values",
    ),
    (
        "pulumirpc.ConstructRequest.customTimeouts",
        "children keep their own default timeouts",
    ),
    (
        "pulumirpc.ConstructRequest.deletedWith",
        "not forwarded: children are deleted with the component anyway",
    ),
    (
        "pulumirpc.ConstructRequest.deleteBeforeReplace",
        "children decide replacement order themselves",
    ),
    (
        "pulumirpc.ConstructRequest.ignoreChanges",
        "names the component's inputs, which have no meaning for its children",
    ),
    (
        "pulumirpc.ConstructRequest.replaceOnChanges",
        "names the component's inputs, which have no meaning for its children",
    ),
    (
        "pulumirpc.ConstructRequest.accepts_output_values",
        "false by omission: inputs arrive as plain values",
    ),
    (
        "pulumirpc.ConstructRequest.resource_hooks",
        "no resource hooks",
    ),
    (
        "pulumirpc.ConstructRequest.stack_trace_handle",
        "no stack traces for children",
    ),
    (
        "pulumirpc.ConstructRequest.replace_with",
        "not forwarded to children",
    ),
    (
        "pulumirpc.ConstructRequest.aliases",
        "children are named from the component's name; renaming a component is not supported yet",
    ),
    (
        "pulumirpc.ConstructRequest.replacement_trigger",
        "not forwarded to children",
    ),
    (
        "pulumirpc.ConstructResponse.stateDependencies",
        "the component's outputs depend on no other resource",
    ),
    (
        "pulumirpc.RegisterResourceRequest.propertyDependencies",
        "a child's inputs come from a file, not from other resources",
    ),
    (
        "pulumirpc.RegisterResourceRequest.deleteBeforeReplace",
        "the child's own Diff decides (delete_before_replace)",
    ),
    (
        "pulumirpc.RegisterResourceRequest.version",
        "children use the provider of the component",
    ),
    (
        "pulumirpc.RegisterResourceRequest.ignoreChanges",
        "not set on children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.additionalSecretOutputs",
        "not set on children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.aliasURNs",
        "no aliases for children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.importId",
        "children are created, never imported",
    ),
    (
        "pulumirpc.RegisterResourceRequest.customTimeouts",
        "children keep their own default timeouts",
    ),
    (
        "pulumirpc.RegisterResourceRequest.deleteBeforeReplaceDefined",
        "see deleteBeforeReplace",
    ),
    (
        "pulumirpc.RegisterResourceRequest.supportsPartialValues",
        "false by omission",
    ),
    (
        "pulumirpc.RegisterResourceRequest.remote",
        "children are custom resources, never remote components",
    ),
    (
        "pulumirpc.RegisterResourceRequest.acceptResources",
        "false by omission: children's outputs are plain values",
    ),
    (
        "pulumirpc.RegisterResourceRequest.providers",
        "children name their provider with `provider`",
    ),
    (
        "pulumirpc.RegisterResourceRequest.replaceOnChanges",
        "not set on children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.pluginDownloadURL",
        "children use the provider of the component",
    ),
    (
        "pulumirpc.RegisterResourceRequest.pluginChecksums",
        "children use the provider of the component",
    ),
    (
        "pulumirpc.RegisterResourceRequest.aliases",
        "no aliases for children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.deletedWith",
        "not set on children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.replace_with",
        "not set on children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.replacement_trigger",
        "not set on children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.aliasSpecs",
        "no aliases for children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.sourcePosition",
        "children have no source position of their own",
    ),
    (
        "pulumirpc.RegisterResourceRequest.stackTrace",
        "children have no stack trace of their own",
    ),
    (
        "pulumirpc.RegisterResourceRequest.parentStackTraceHandle",
        "children have no stack trace of their own",
    ),
    (
        "pulumirpc.RegisterResourceRequest.transforms",
        "no transforms",
    ),
    (
        "pulumirpc.RegisterResourceRequest.supportsResultReporting",
        "false by omission: a failed child fails the registration",
    ),
    (
        "pulumirpc.RegisterResourceRequest.packageRef",
        "children belong to this provider's own package, not a parameterized one",
    ),
    (
        "pulumirpc.RegisterResourceRequest.hooks",
        "no resource hooks",
    ),
    (
        "pulumirpc.RegisterResourceRequest.hideDiffs",
        "not set on children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.envVarMappings",
        "not set on children",
    ),
    (
        "pulumirpc.RegisterResourceRequest.snippetId",
        "children have no source snippet",
    ),
    (
        "pulumirpc.RegisterResourceRequest.accepts_byte_string",
        "we never send non-UTF-8 byte strings",
    ),
    (
        "pulumirpc.RegisterResourceResponse.stable",
        "we do not use stability hints",
    ),
    (
        "pulumirpc.RegisterResourceResponse.stables",
        "we do not use stability hints",
    ),
    (
        "pulumirpc.RegisterResourceResponse.propertyDependencies",
        "no child output feeds another's input",
    ),
    (
        "pulumirpc.RegisterResourceResponse.result",
        "without supportsResultReporting a failure is an error",
    ),
    (
        "pulumirpc.RegisterResourceResponse.unknown",
        "only the registration's urn is used",
    ),
];

/// The shape both sides are reduced to; `tests/proto_compat.py` documents the JSON.
#[derive(Debug, Default, Deserialize)]
struct Protocol {
    #[serde(default)]
    versions: BTreeMap<String, String>,
    #[serde(default)]
    sources: BTreeMap<String, String>,
    messages: BTreeMap<String, MessageShape>,
    enums: BTreeMap<String, BTreeMap<String, i32>>,
    services: BTreeMap<String, BTreeMap<String, MethodShape>>,
}

#[derive(Debug, Clone, Deserialize)]
struct MessageShape {
    file: String,
    fields: Vec<FieldShape>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct FieldShape {
    name: String,
    number: i32,
    #[serde(rename = "type")]
    ty: String,
    label: String,
    type_name: Option<String>,
    oneof: Option<String>,
    map_key: Option<TypeRef>,
    map_value: Option<TypeRef>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct TypeRef {
    #[serde(rename = "type")]
    ty: String,
    type_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct MethodShape {
    input_type: String,
    output_type: String,
    client_streaming: bool,
    server_streaming: bool,
}

/// Our side: `aiservice::proto::DESCRIPTOR_SET` in the same shape as the Python dump.
fn ours() -> Protocol {
    protocol_of(aiservice::proto::DESCRIPTOR_SET)
}

/// An encoded `FileDescriptorSet` in the compared shape.
fn protocol_of(descriptor_set: &[u8]) -> Protocol {
    let set = FileDescriptorSet::decode(descriptor_set).expect("an encoded FileDescriptorSet");
    let mut map_entries = BTreeMap::new();
    for file in &set.file {
        for message in &file.message_type {
            index_map_entries(file.package(), message, &mut map_entries);
        }
    }
    let mut out = Protocol::default();
    // The set may include the well-known types protoc imported (google/protobuf/*.proto);
    // only the files that import them are compared.
    for file in set
        .file
        .iter()
        .filter(|f| !f.name().starts_with("google/protobuf/"))
    {
        for message in &file.message_type {
            add_message(file.name(), file.package(), message, &map_entries, &mut out);
        }
        for e in &file.enum_type {
            add_enum(file.package(), e, &mut out);
        }
        for service in &file.service {
            let methods = service
                .method
                .iter()
                .map(|m| {
                    let shape = MethodShape {
                        input_type: strip_dot(m.input_type()),
                        output_type: strip_dot(m.output_type()),
                        client_streaming: m.client_streaming(),
                        server_streaming: m.server_streaming(),
                    };
                    (m.name().to_string(), shape)
                })
                .collect();
            out.services
                .insert(format!("{}.{}", file.package(), service.name()), methods);
        }
    }
    out
}

type MapEntries = BTreeMap<String, (TypeRef, TypeRef)>;

fn index_map_entries(prefix: &str, message: &DescriptorProto, out: &mut MapEntries) {
    let full = format!("{prefix}.{}", message.name());
    if message.options.as_ref().is_some_and(|o| o.map_entry()) {
        let part = |name: &str| {
            let f = message
                .field
                .iter()
                .find(|f| f.name() == name)
                .unwrap_or_else(|| panic!("map entry {full} has no {name} field"));
            type_ref(f)
        };
        out.insert(full.clone(), (part("key"), part("value")));
    }
    for nested in &message.nested_type {
        index_map_entries(&full, nested, out);
    }
}

fn add_message(
    file: &str,
    prefix: &str,
    message: &DescriptorProto,
    map_entries: &MapEntries,
    out: &mut Protocol,
) {
    let full = format!("{prefix}.{}", message.name());
    for nested in &message.nested_type {
        add_message(file, &full, nested, map_entries, out);
    }
    for e in &message.enum_type {
        add_enum(&full, e, out);
    }
    if message.options.as_ref().is_some_and(|o| o.map_entry()) {
        return;
    }
    let fields = message
        .field
        .iter()
        .map(|f| field_shape(message, f, map_entries))
        .collect();
    out.messages.insert(
        full,
        MessageShape {
            file: file.to_string(),
            fields,
        },
    );
}

fn add_enum(prefix: &str, e: &EnumDescriptorProto, out: &mut Protocol) {
    let values = e
        .value
        .iter()
        .map(|v| (v.name().to_string(), v.number()))
        .collect();
    out.enums.insert(format!("{prefix}.{}", e.name()), values);
}

fn field_shape(
    message: &DescriptorProto,
    f: &FieldDescriptorProto,
    map_entries: &MapEntries,
) -> FieldShape {
    let entry = map_entries.get(&strip_dot(f.type_name()));
    let label = match (f.label(), entry) {
        (Label::Repeated, Some(_)) => "map",
        (Label::Repeated, None) => "repeated",
        (Label::Required, _) => "required",
        (Label::Optional, _) if f.proto3_optional() => "optional",
        (Label::Optional, _) => "singular",
    };
    let oneof = match f.oneof_index {
        Some(i) if !f.proto3_optional() => Some(
            message.oneof_decl[usize::try_from(i).expect("oneof index")]
                .name()
                .to_string(),
        ),
        _ => None,
    };
    let is_map = label == "map";
    FieldShape {
        name: f.name().to_string(),
        number: f.number(),
        ty: type_name_of(f.r#type()),
        label: label.to_string(),
        type_name: if is_map { None } else { type_ref(f).type_name },
        oneof,
        map_key: entry.filter(|_| is_map).map(|e| e.0.clone()),
        map_value: entry.filter(|_| is_map).map(|e| e.1.clone()),
    }
}

fn type_ref(f: &FieldDescriptorProto) -> TypeRef {
    let name = strip_dot(f.type_name());
    TypeRef {
        ty: type_name_of(f.r#type()),
        type_name: (!name.is_empty()).then_some(name),
    }
}

fn type_name_of(ty: Type) -> String {
    ty.as_str_name().to_string()
}

fn strip_dot(name: &str) -> String {
    name.trim_start_matches('.').to_string()
}

/// Upstream: the engine's definitions dumped by `tests/proto_compat.py` with the python3 of
/// the provisioned `pulumi` venv. Loaded once per test process.
fn upstream() -> &'static Protocol {
    static UPSTREAM: OnceLock<Protocol> = OnceLock::new();
    UPSTREAM.get_or_init(|| {
        let tools = Tools::get().expect("provisioning the test tools");
        let python = tools
            .file("python3")
            .expect("the pulumi venv's python3 is among the provisioned tools");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/proto_compat.py");
        let output = Command::new(&python)
            .arg(&script)
            .env_remove("PYTHONPATH")
            .env_remove("PYTHONHOME")
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
        assert!(
            output.status.success(),
            "{} {} failed ({}):\n{}",
            python.display(),
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{} printed no protocol JSON ({e}):\n{}",
                script.display(),
                String::from_utf8_lossy(&output.stdout)
            )
        })
    })
}

/// What one comparison found and how much it looked at.
#[derive(Debug, Default)]
struct Report {
    differences: Vec<String>,
    messages: usize,
    fields: usize,
    omitted_fields: usize,
    enums: usize,
    enum_values: usize,
    methods: usize,
}

impl Report {
    fn counts(&self) -> String {
        format!(
            "compared: {} messages, {} fields ({} upstream fields left out), {} enums with {} \
             values, {} RPCs",
            self.messages,
            self.fields,
            self.omitted_fields,
            self.enums,
            self.enum_values,
            self.methods,
        )
    }

    /// No differences, and nothing passed vacuously: all of ours was looked at.
    fn assert_complete(&self, ours: &Protocol, upstream: &str, summary: &str) {
        eprintln!("{summary}");
        assert!(
            self.differences.is_empty(),
            "{} difference(s) between proto/ and {upstream}:\n  {}\n{summary}",
            self.differences.len(),
            self.differences.join("\n  ")
        );
        assert_eq!(self.messages, ours.messages.len(), "{summary}");
        assert_eq!(self.enums, ours.enums.len(), "{summary}");
        let fields: usize = ours.messages.values().map(|m| m.fields.len()).sum();
        assert_eq!(self.fields, fields, "{summary}");
    }
}

fn compare(ours: &Protocol, upstream: &Protocol, allowed: &[(&str, &str)]) -> Report {
    let mut r = Report::default();
    let mut allow: BTreeMap<&str, &str> = BTreeMap::new();
    for (field, reason) in allowed {
        if reason.trim().is_empty() {
            r.differences
                .push(format!("allow-list entry {field}: give a reason"));
        }
        if allow.insert(field, reason).is_some() {
            r.differences
                .push(format!("allow-list entry {field}: listed twice"));
        }
    }
    let mut allow_used = BTreeSet::new();

    for (name, message) in &ours.messages {
        let Some(theirs) = upstream.messages.get(name) else {
            r.differences.push(format!(
                "message {name} (our {}): not defined upstream",
                message.file
            ));
            continue;
        };
        r.messages += 1;
        for field in &message.fields {
            let at = format!("{name}.{}", field.name);
            let Some(up) = theirs.fields.iter().find(|f| f.name == field.name) else {
                let same_number = theirs.fields.iter().find(|f| f.number == field.number);
                r.differences.push(match same_number {
                    Some(up) => format!(
                        "{at} (#{}): no such field upstream; upstream #{} is {:?}",
                        field.number, up.number, up.name
                    ),
                    None => format!("{at} (#{}): no such field upstream", field.number),
                });
                continue;
            };
            r.fields += 1;
            let mut differs = |what: &str, ours: String, theirs: String| {
                if ours != theirs {
                    r.differences
                        .push(format!("{at}: {what} is {ours}, upstream {theirs}"));
                }
            };
            differs("number", field.number.to_string(), up.number.to_string());
            differs("type", field.ty.clone(), up.ty.clone());
            differs("label", field.label.clone(), up.label.clone());
            differs(
                "type name",
                format!("{:?}", field.type_name),
                format!("{:?}", up.type_name),
            );
            differs(
                "oneof",
                format!("{:?}", field.oneof),
                format!("{:?}", up.oneof),
            );
            differs(
                "map key",
                format!("{:?}", field.map_key),
                format!("{:?}", up.map_key),
            );
            differs(
                "map value",
                format!("{:?}", field.map_value),
                format!("{:?}", up.map_value),
            );
        }
        for up in &theirs.fields {
            if message.fields.iter().any(|f| f.name == up.name) {
                continue;
            }
            let at = format!("{name}.{}", up.name);
            r.omitted_fields += 1;
            if allow.contains_key(at.as_str()) {
                allow_used.insert(at);
            } else {
                r.differences.push(format!(
                    "{at} (#{} {} {}{}): upstream field we do not declare; declare it in \
                     proto/ or add it to ALLOWED_OMISSIONS with a reason",
                    up.number,
                    up.label,
                    up.ty,
                    up.type_name
                        .as_deref()
                        .map(|t| format!(" {t}"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    for field in allow.keys() {
        if !allow_used.contains(*field) {
            r.differences.push(format!(
                "allow-list entry {field}: not an upstream field we leave out (declared now, \
                 or gone upstream); remove the entry"
            ));
        }
    }

    for (name, values) in &ours.enums {
        let Some(theirs) = upstream.enums.get(name) else {
            r.differences
                .push(format!("enum {name}: not defined upstream"));
            continue;
        };
        r.enums += 1;
        for (value, number) in values {
            r.enum_values += 1;
            match theirs.get(value) {
                None => r.differences.push(format!(
                    "{name}.{value} (= {number}): no such value upstream"
                )),
                Some(up) if up != number => r
                    .differences
                    .push(format!("{name}.{value}: number is {number}, upstream {up}")),
                Some(_) => {}
            }
        }
    }

    for (name, methods) in &ours.services {
        let Some(theirs) = upstream.services.get(name) else {
            r.differences
                .push(format!("service {name}: not defined upstream"));
            continue;
        };
        for (method, shape) in methods {
            r.methods += 1;
            match theirs.get(method) {
                None => r
                    .differences
                    .push(format!("rpc {name}.{method}: no such method upstream")),
                Some(up) if up != shape => r.differences.push(format!(
                    "rpc {name}.{method}: ours {shape:?}, upstream {up:?}"
                )),
                Some(_) => {}
            }
        }
    }
    r
}

#[test]
fn our_protocol_matches_the_engines_definitions_field_by_field() {
    let ours = ours();
    let upstream = upstream();
    let report = compare(&ours, upstream, ALLOWED_OMISSIONS);
    let summary = format!(
        "upstream: pulumi {} (protobuf {}), files {:?}\n{}",
        upstream.versions.get("pulumi").map_or("?", String::as_str),
        upstream
            .versions
            .get("protobuf")
            .map_or("?", String::as_str),
        upstream.sources,
        report.counts(),
    );
    report.assert_complete(&ours, "the engine's definitions", &summary);
    assert!(
        report.messages >= 20,
        "too few messages compared: {summary}"
    );
    assert!(report.fields >= 100, "too few fields compared: {summary}");
    assert!(
        report.enum_values >= 15,
        "too few enum values compared: {summary}"
    );
    assert!(report.methods >= 14, "too few RPCs compared: {summary}");
    for service in ["pulumirpc.ResourceProvider", "pulumirpc.Engine"] {
        assert!(
            ours.services.contains_key(service),
            "{service} not compared"
        );
    }
    assert!(ours.messages.contains_key("google.rpc.Status"), "{summary}");
}

/// Upstream fields of tfplugin6 that `proto/terraform/tfplugin6.proto` leaves out: features of
/// protocol 6.1 to 6.11 this provider does not offer. A CLI talks to a provider without them:
/// proto3 skips fields a side does not know, and an unimplemented RPC means "not offered".
const TERRAFORM_ALLOWED_OMISSIONS: &[(&str, &str)] = &[
    (
        "tfplugin6.ConfigureProvider.Request.client_capabilities",
        "6.6+: what the CLI can take (deferred actions, write-only attributes); we use neither",
    ),
    (
        "tfplugin6.ImportResourceState.Request.client_capabilities",
        "6.6+: what the CLI can take (deferred actions, write-only attributes); we use neither",
    ),
    (
        "tfplugin6.PlanResourceChange.Request.client_capabilities",
        "6.6+: what the CLI can take (deferred actions, write-only attributes); we use neither",
    ),
    (
        "tfplugin6.ReadDataSource.Request.client_capabilities",
        "6.6+: what the CLI can take (deferred actions, write-only attributes); we use neither",
    ),
    (
        "tfplugin6.ReadResource.Request.client_capabilities",
        "6.6+: what the CLI can take (deferred actions, write-only attributes); we use neither",
    ),
    (
        "tfplugin6.ValidateResourceConfig.Request.client_capabilities",
        "6.6+: what the CLI can take (deferred actions, write-only attributes); we use neither",
    ),
    (
        "tfplugin6.ImportResourceState.Response.deferred",
        "6.6+: deferred actions; this provider always answers in the same run",
    ),
    (
        "tfplugin6.PlanResourceChange.Response.deferred",
        "6.6+: deferred actions; this provider always answers in the same run",
    ),
    (
        "tfplugin6.ReadDataSource.Response.deferred",
        "6.6+: deferred actions; this provider always answers in the same run",
    ),
    (
        "tfplugin6.ReadResource.Response.deferred",
        "6.6+: deferred actions; this provider always answers in the same run",
    ),
    (
        "tfplugin6.ApplyResourceChange.Request.planned_identity",
        "6.9+: resource identity; our resources are identified by their id (namespace/name)",
    ),
    (
        "tfplugin6.ApplyResourceChange.Response.new_identity",
        "6.9+: resource identity; our resources are identified by their id (namespace/name)",
    ),
    (
        "tfplugin6.ImportResourceState.ImportedResource.identity",
        "6.9+: resource identity; our resources are identified by their id (namespace/name)",
    ),
    (
        "tfplugin6.ImportResourceState.Request.identity",
        "6.9+: resource identity; our resources are identified by their id (namespace/name)",
    ),
    (
        "tfplugin6.PlanResourceChange.Request.prior_identity",
        "6.9+: resource identity; our resources are identified by their id (namespace/name)",
    ),
    (
        "tfplugin6.PlanResourceChange.Response.planned_identity",
        "6.9+: resource identity; our resources are identified by their id (namespace/name)",
    ),
    (
        "tfplugin6.ReadResource.Request.current_identity",
        "6.9+: resource identity; our resources are identified by their id (namespace/name)",
    ),
    (
        "tfplugin6.ReadResource.Response.new_identity",
        "6.9+: resource identity; our resources are identified by their id (namespace/name)",
    ),
    (
        "tfplugin6.ApplyResourceChange.Response.legacy_type_system",
        "only for SDKv2 providers; false (not sent) is what we are: values follow the schema exactly",
    ),
    (
        "tfplugin6.PlanResourceChange.Response.legacy_type_system",
        "only for SDKv2 providers; false (not sent) is what we are: values follow the schema exactly",
    ),
    (
        "tfplugin6.GetProviderSchema.Response.server_capabilities",
        "6.3+: optional features (plan_destroy, get_provider_schema_optional); not sending it means none",
    ),
    (
        "tfplugin6.GetProviderSchema.Response.functions",
        "6.5+: provider functions; we offer none",
    ),
    (
        "tfplugin6.GetProviderSchema.Response.ephemeral_resource_schemas",
        "6.7+: ephemeral resources; we offer none",
    ),
    (
        "tfplugin6.GetProviderSchema.Response.list_resource_schemas",
        "6.10+: list resources (terraform query); we offer none",
    ),
    (
        "tfplugin6.GetProviderSchema.Response.state_store_schemas",
        "6.11: pluggable state stores; we offer none",
    ),
    (
        "tfplugin6.GetProviderSchema.Response.action_schemas",
        "6.10+: actions; we offer none",
    ),
    (
        "tfplugin6.Schema.Attribute.nested_type",
        "nested attributes; our structured attributes are dynamic (the CRD's own schema validates them)",
    ),
    (
        "tfplugin6.Schema.Attribute.write_only",
        "6.8+: write-only attributes; none of ours is",
    ),
    (
        "tfplugin6.Schema.Attribute.deprecation_message",
        "6.10+: nothing of ours is deprecated",
    ),
    (
        "tfplugin6.Schema.Block.deprecation_message",
        "6.10+: nothing of ours is deprecated",
    ),
];

/// terraform-plugin-go's tfplugin6.proto (provisioned by `tests/env/`), compiled with the same
/// vendored protoc as ours.
fn terraform_upstream() -> Protocol {
    let tools = Tools::get().expect("provisioning the test tools");
    let proto = tools
        .file("tfplugin6.proto")
        .expect("terraform-plugin-go's tfplugin6.proto is among the provisioned tools");
    let out = std::env::temp_dir().join(format!("tfplugin6-{}.desc", std::process::id()));
    let protoc = protoc_bin_vendored::protoc_bin_path().expect("the vendored protoc");
    let include = protoc_bin_vendored::include_path().expect("the vendored protoc's includes");
    let status = Command::new(&protoc)
        .arg(format!(
            "--proto_path={}",
            proto.parent().expect("a directory").display()
        ))
        .arg(format!("--proto_path={}", include.display()))
        .arg(format!("--descriptor_set_out={}", out.display()))
        .arg("tfplugin6.proto")
        .status()
        .expect("running protoc");
    assert!(status.success(), "protoc failed on {}", proto.display());
    let set = std::fs::read(&out).expect("protoc wrote the descriptor set");
    let _ = std::fs::remove_file(&out);
    protocol_of(&set)
}

/// Only the definitions of `package`.
fn only_package(mut p: Protocol, package: &str) -> Protocol {
    let prefix = format!("{package}.");
    p.messages.retain(|name, _| name.starts_with(&prefix));
    p.enums.retain(|name, _| name.starts_with(&prefix));
    p.services.retain(|name, _| name.starts_with(&prefix));
    p
}

#[test]
fn our_terraform_protocol_matches_terraform_plugin_go_field_by_field() {
    let ours = only_package(
        protocol_of(aiservice::proto::TERRAFORM_DESCRIPTOR_SET),
        "tfplugin6",
    );
    let upstream = terraform_upstream();
    let report = compare(&ours, &upstream, TERRAFORM_ALLOWED_OMISSIONS);
    let summary = report.counts();
    report.assert_complete(&ours, "terraform-plugin-go's tfplugin6.proto", &summary);
    assert_eq!(report.methods, 12, "every RPC we serve: {summary}");
    assert!(report.fields >= 80, "too few fields compared: {summary}");
}

fn field_mut<'a>(p: &'a mut Protocol, message: &str, name: &str) -> &'a mut FieldShape {
    p.messages
        .get_mut(message)
        .unwrap_or_else(|| panic!("we declare no {message}"))
        .fields
        .iter_mut()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("we declare no {message}.{name}"))
}

/// The comparison itself catches drift: a copy of our protocol with one change of each kind
/// yields exactly those differences, all of them.
#[test]
fn every_kind_of_drift_is_reported() {
    let upstream = upstream();
    let mut drifted = ours();
    field_mut(&mut drifted, "pulumirpc.CreateRequest", "timeout").number = 30;
    field_mut(&mut drifted, "pulumirpc.CreateRequest", "preview").ty = "TYPE_STRING".into();
    field_mut(&mut drifted, "pulumirpc.ConfigureRequest", "id").label = "singular".into();
    field_mut(&mut drifted, "pulumirpc.DiffResponse", "changes").type_name =
        Some("pulumirpc.LogSeverity".into());
    field_mut(&mut drifted, "pulumirpc.DiffResponse", "detailedDiff").map_value = Some(TypeRef {
        ty: "TYPE_STRING".into(),
        type_name: None,
    });
    let read = drifted.messages.get_mut("pulumirpc.ReadResponse").unwrap();
    read.fields.retain(|f| f.name != "inputs");
    let mut bogus = read.fields[0].clone();
    bogus.name = "bogus".into();
    bogus.number = 99;
    read.fields.push(bogus);
    let mut renamed = read.fields[0].clone();
    renamed.name = "identifier".into();
    read.fields[0] = renamed;
    drifted.messages.insert(
        "pulumirpc.NoSuchMessage".into(),
        drifted.messages["pulumirpc.PluginInfo"].clone(),
    );
    drifted
        .enums
        .get_mut("pulumirpc.LogSeverity")
        .unwrap()
        .insert("ERROR".into(), 4);
    drifted
        .enums
        .get_mut("pulumirpc.PropertyDiff.Kind")
        .unwrap()
        .insert("MOVE".into(), 6);
    let provider = drifted
        .services
        .get_mut("pulumirpc.ResourceProvider")
        .unwrap();
    provider.get_mut("Create").unwrap().output_type = "pulumirpc.UpdateResponse".into();
    let mut stream = provider["Cancel"].clone();
    stream.server_streaming = true;
    provider.insert("Watch".into(), stream);
    let mut allowed = ALLOWED_OMISSIONS.to_vec();
    allowed.push(("pulumirpc.CreateRequest.urn", "we declare this one"));
    allowed.push(("pulumirpc.CreateRequest.no_such_field", "not upstream"));

    let report = compare(&drifted, upstream, &allowed);
    let expected = [
        "pulumirpc.CreateRequest.timeout: number is 30, upstream 3",
        "pulumirpc.CreateRequest.preview: type is TYPE_STRING, upstream TYPE_BOOL",
        "pulumirpc.ConfigureRequest.id: label is singular, upstream optional",
        "pulumirpc.DiffResponse.changes: type name is Some(\"pulumirpc.LogSeverity\"), \
         upstream Some(\"pulumirpc.DiffResponse.DiffChanges\")",
        "pulumirpc.DiffResponse.detailedDiff: map value is",
        "pulumirpc.ReadResponse.inputs (#3 singular TYPE_MESSAGE google.protobuf.Struct): \
         upstream field we do not declare",
        "pulumirpc.ReadResponse.bogus (#99): no such field upstream",
        "pulumirpc.ReadResponse.identifier (#1): no such field upstream; upstream #1 is \"id\"",
        "pulumirpc.ReadResponse.id (#1 singular TYPE_STRING): upstream field we do not declare",
        "message pulumirpc.NoSuchMessage (our pulumi/plugin.proto): not defined upstream",
        "pulumirpc.LogSeverity.ERROR: number is 4, upstream 3",
        "pulumirpc.PropertyDiff.Kind.MOVE (= 6): no such value upstream",
        "rpc pulumirpc.ResourceProvider.Create: ours",
        "rpc pulumirpc.ResourceProvider.Watch: no such method upstream",
        "allow-list entry pulumirpc.CreateRequest.urn: not an upstream field we leave out",
        "allow-list entry pulumirpc.CreateRequest.no_such_field: not an upstream field",
    ];
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|e| !report.differences.iter().any(|d| d.starts_with(e)))
        .collect();
    assert!(
        missing.is_empty(),
        "drift not reported: {missing:#?}\nreported: {:#?}",
        report.differences
    );
    assert_eq!(
        report.differences.len(),
        expected.len(),
        "unexpected extra differences: {:#?}",
        report.differences
    );
}
