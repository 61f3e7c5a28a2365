#!/usr/bin/env python3
"""Conformance of pulumi-resource-aiservice over gRPC, with the PyPI `pulumi` package's
generated stubs as the client (the same messages the Pulumi engine sends), against a real
kube-apiserver.

    provider_conformance.py PROVIDER KUBECONFIG NAMESPACE GROUP [--expect-version V] [--only CASE...]

PROVIDER is the `pulumi-resource-aiservice` binary, KUBECONFIG a kubeconfig for the cluster,
NAMESPACE a namespace that exists and belongs to this run, GROUP an API group no other run
uses (CRDs are cluster-scoped). `kubectl` must be on PATH.

Every case prints one JSON line on stdout: {"case": name, "ok": bool, "detail": ...}. Each
asserts what a user would see: messages, property paths, ids, outputs. Everything created is
deleted again. Diagnostics go to stderr.
"""

import argparse
import base64
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from google.rpc import status_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
CRD_TOKEN = "aiservice:apiextensions/v1:CustomResourceDefinition"
CR_TOKEN = "aiservice:apiextensions:CustomResource"
# gRPC deadline of one call; waits inside the provider are bounded by their own timeouts.
CALL_TIMEOUT = 180

DIFF_NONE = provider_pb2.DiffResponse.DIFF_NONE
DIFF_SOME = provider_pb2.DiffResponse.DIFF_SOME
KIND_NAMES = dict((v, k) for k, v in provider_pb2.PropertyDiff.Kind.items())


def log(message):
    print(f"[conformance] {message}", file=sys.stderr, flush=True)


# --- values --------------------------------------------------------------------------------


def to_struct(fields):
    s = struct_pb2.Struct()
    s.update(fields)
    return s


def from_struct(s):
    return json_format.MessageToDict(s) if s is not None else {}


def secret(value):
    return {SIG: SECRET_SIG, "value": value}


def is_secret(value):
    return isinstance(value, dict) and value.get(SIG) == SECRET_SIG


def at(obj, path):
    """The value at a dotted path (`spec.tags.1`), or None."""
    for part in path.split("."):
        if isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            return None
    return obj


def short(value, limit=400):
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- assertions ----------------------------------------------------------------------------


class Failed(Exception):
    """An expectation about what the user sees did not hold."""

    def __init__(self, expected, **seen):
        super().__init__(expected)
        self.detail = {"expected": expected, **{k: short(v) for k, v in seen.items()}}


def expect(condition, expected, **seen):
    if not condition:
        raise Failed(expected, **seen)


def failures_of(response):
    return [(f.property, f.reason) for f in response.failures]


def expect_failure(response, prop, *words):
    """A check failure about exactly `prop` whose reason contains every word; returns the reason.

    The property path leads the reason (`spec.replicas: expected integer, ...`) and the
    failure's own property is empty: given one, the CLI looks it up as a top-level input and
    prints `value {<nil>}` for a nested path instead of the user's value."""
    found = failures_of(response)
    for p, reason in found:
        if p == "" and reason.startswith(f"{prop}: ") and all(w.lower() in reason.lower() for w in words):
            return reason
    raise Failed(f"a check failure '{prop}: ...' mentioning {list(words)}", failures=found)


def expect_no_failures(response, what):
    found = failures_of(response)
    expect(not found, f"{what}: no check failures", failures=found)


def rpc_error(call, *args, **kwargs):
    """Runs a call that must fail; returns its grpc.RpcError."""
    try:
        result = call(*args, **kwargs)
    except grpc.RpcError as e:
        return e
    raise Failed("the call to fail with a gRPC error", got=str(result))


def expect_message(error, *words):
    message = error.details() or ""
    for w in words:
        expect(w.lower() in message.lower(), f"the error message to mention {w!r}", message=message)
    expect("panicked" not in message, "no panic in the message", message=message)
    return message


# --- the provider process ------------------------------------------------------------------


# A provider never outlives this script, even a killed one: util-linux `setpriv` sets the
# parent-death signal and execs it. (A Python `preexec_fn` would run between fork and exec in
# a process whose gRPC threads may hold locks, and the child sometimes died there.)
DIE_WITH_PARENT = ["setpriv", "--pdeathsig", "KILL", "--"]


class Provider:
    """One pulumi-resource-aiservice process and a client for it."""

    def __init__(self, binary, label, workdir):
        self.label = label
        self.stderr_path = os.path.join(workdir, f"provider-{label}.stderr")
        self.stderr_file = open(self.stderr_path, "wb")
        # No engine address: Engine.Log goes nowhere, everything is logged to stderr.
        self.process = subprocess.Popen(
            [*DIE_WITH_PARENT, binary, "-v=9", "--logtostderr"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        line = self.process.stdout.readline().decode() if ready else ""
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"provider {label} printed {line!r} instead of its port")
        self.port = int(line)
        more = select.select([self.process.stdout], [], [], 0.2)[0]
        self.extra_stdout = self.process.stdout.read1(4096).decode(errors="replace") if more else ""
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{self.port}",
            options=[("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)],
        )
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def configure(self, kubeconfig, namespace):
        return self.stub.Configure(
            provider_pb2.ConfigureRequest(
                args=to_struct({"kubeconfig": kubeconfig, "namespace": namespace}),
                acceptSecrets=True,
                acceptResources=True,
            ),
            timeout=CALL_TIMEOUT,
        )

    def alive(self):
        return self.process.poll() is None

    def stderr(self):
        self.stderr_file.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr_file.close()


def urn(token, name):
    return f"urn:pulumi:conformance::conformance::{token}::{name}"


class Client:
    """The calls the engine makes, for one resource type."""

    def __init__(self, provider, token):
        self.stub = provider.stub
        self.token = token

    def check(self, name, news, olds=None, seed=b""):
        return self.stub.Check(
            provider_pb2.CheckRequest(
                urn=urn(self.token, name),
                name=name,
                type=self.token,
                olds=to_struct(olds or {}),
                news=to_struct(news),
                randomSeed=seed,
            ),
            timeout=CALL_TIMEOUT,
        )

    def checked(self, name, news, seed=b"\x07" * 32):
        """Check that must pass; returns the checked inputs as a dict."""
        response = self.check(name, news, seed=seed)
        expect_no_failures(response, f"Check of {name}")
        return from_struct(response.inputs)

    def create(self, name, inputs, preview=False, timeout=0):
        response = self.stub.Create(
            provider_pb2.CreateRequest(
                urn=urn(self.token, name),
                name=name,
                type=self.token,
                properties=to_struct(inputs),
                preview=preview,
                timeout=timeout,
            ),
            timeout=CALL_TIMEOUT,
        )
        return response.id, from_struct(response.properties)

    def read(self, name, id, inputs, outputs=None):
        response = self.stub.Read(
            provider_pb2.ReadRequest(
                urn=urn(self.token, name),
                name=name,
                type=self.token,
                id=id,
                properties=to_struct(outputs or {}),
                inputs=to_struct(inputs),
            ),
            timeout=CALL_TIMEOUT,
        )
        return response.id, from_struct(response.properties), from_struct(response.inputs)

    def diff(self, name, id, old_inputs, olds, news):
        return self.stub.Diff(
            provider_pb2.DiffRequest(
                urn=urn(self.token, name),
                name=name,
                type=self.token,
                id=id,
                old_inputs=to_struct(old_inputs),
                olds=to_struct(olds),
                news=to_struct(news),
            ),
            timeout=CALL_TIMEOUT,
        )

    def update(self, name, id, old_inputs, olds, news, preview=False, timeout=0):
        response = self.stub.Update(
            provider_pb2.UpdateRequest(
                urn=urn(self.token, name),
                name=name,
                type=self.token,
                id=id,
                old_inputs=to_struct(old_inputs),
                olds=to_struct(olds),
                news=to_struct(news),
                preview=preview,
                timeout=timeout,
            ),
            timeout=CALL_TIMEOUT,
        )
        return from_struct(response.properties)

    def delete(self, name, id, outputs, timeout=0):
        return self.stub.Delete(
            provider_pb2.DeleteRequest(
                urn=urn(self.token, name),
                name=name,
                type=self.token,
                id=id,
                properties=to_struct(outputs),
                timeout=timeout,
            ),
            timeout=CALL_TIMEOUT,
        )


# --- the run -------------------------------------------------------------------------------


class Run:
    def __init__(self, args, workdir):
        self.binary = args.provider
        self.kubeconfig = args.kubeconfig
        self.namespace = args.namespace
        self.group = args.group
        self.expect_version = args.expect_version
        self.workdir = workdir
        self.main = Provider(self.binary, "main", workdir)
        self.main.configure(self.kubeconfig, self.namespace)
        self.crd = Client(self.main, CRD_TOKEN)
        self.cr = Client(self.main, CR_TOKEN)
        self.extra_providers = []
        # Plaintexts of every secret sent; none may appear in any provider's log.
        self.secrets = []
        self.fixture = None

    def provider(self, label):
        p = Provider(self.binary, label, self.workdir)
        self.extra_providers.append(p)
        return p

    def kubectl(self, *args, check=True):
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.kubeconfig, "--namespace", self.namespace, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and out.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {out.stderr}")
        return out

    def live(self, kind, name):
        """The live object as kubectl shows it, or None when it is NotFound."""
        out = self.kubectl("get", kind, name, "-o", "json", check=False)
        if out.returncode != 0:
            if "NotFound" in out.stderr:
                return None
            raise RuntimeError(f"kubectl get {kind} {name}: {out.stderr}")
        return json.loads(out.stdout)

    def widget(self, name=None, spec=None, annotations=None, version="v1", kind="Widget"):
        metadata = {}
        if name is not None:
            metadata["name"] = name
        if annotations:
            metadata["annotations"] = annotations
        inputs = {
            "apiVersion": f"{self.group}/{version}",
            "kind": kind,
            "spec": spec if spec is not None else {"image": "example/model:v1", "replicas": 1},
        }
        if metadata:
            inputs["metadata"] = metadata
        return inputs

    def widget_kind(self):
        return f"widgets.{self.group}"

    def create_widget(self, logical, spec=None, annotations=None):
        """Check + Create (for real) of a Widget named like its logical name."""
        inputs = self.cr.checked(logical, self.widget(name=logical, spec=spec, annotations=annotations))
        id, outputs = self.cr.create(logical, inputs)
        expect(id == f"{self.namespace}/{logical}", "Create returns the id <namespace>/<name>", id=id)
        return id, inputs, outputs

    def remove_widget(self, logical, id, outputs):
        self.cr.delete(logical, id, outputs)
        expect(self.live(self.widget_kind(), logical) is None, f"{logical} is gone after Delete")


def crd_inputs(group, plural="widgets", kind="Widget", versions=None, name=None):
    spec = {
        "group": group,
        "names": {
            "plural": plural,
            "singular": plural.rstrip("s").lower(),
            "kind": kind,
            "listKind": f"{kind}List",
        },
        "scope": "Namespaced",
        "versions": versions if versions is not None else [widget_version("v1", storage=True)],
    }
    inputs = {"spec": spec}
    if name is not None:
        inputs["metadata"] = {"name": name}
    return inputs


def widget_version(name, storage, schema=True):
    version = {"name": name, "served": True, "storage": storage, "subresources": {"status": {}}}
    if schema:
        version["schema"] = {
            "openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "required": ["image"],
                        "properties": {
                            "image": {"type": "string"},
                            "replicas": {"type": "integer", "minimum": 0},
                            "port": {"type": "integer", "default": 8080},
                            "token": {"type": "string"},
                            "data": {"type": "string"},
                            "tags": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            }
        }
    return version


def condition(obj, kind):
    for c in at(obj, "status.conditions") or []:
        if c.get("type") == kind:
            return c
    return None


CASES = []


def case(name):
    def register(fn):
        CASES.append((name, fn))
        return fn

    return register


# --- 0. the fixture CRD every custom-resource case uses ------------------------------------


@case("setup_fixture_crd")
def setup_fixture_crd(run):
    name = run.widget_kind()
    inputs = run.crd.checked("widgets-crd", crd_inputs(run.group))
    id, outputs = run.crd.create("widgets-crd", inputs)
    expect(id == name, "the fixture CRD's id is its name", id=id)
    expect((condition(outputs, "Established") or {}).get("status") == "True", "Established", outputs=outputs)
    run.fixture = (id, outputs)
    return {"id": id}


# --- 1. plugin info, schema, handshake -----------------------------------------------------


@case("plugin_info_reports_crate_version")
def plugin_info(run):
    info = run.main.stub.GetPluginInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
    expect(bool(info.version), "a version", got=info.version)
    if run.expect_version:
        expect(info.version == run.expect_version, f"version {run.expect_version}", got=info.version)
    return {"version": info.version}


@case("schema_lists_both_resource_tokens")
def schema(run):
    response = run.main.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=CALL_TIMEOUT)
    parsed = json.loads(response.schema)
    resources = parsed.get("resources", {})
    for token in (CRD_TOKEN, CR_TOKEN):
        expect(token in resources, f"the schema defines {token}", resources=sorted(resources))
    expect(parsed.get("name") == "aiservice", "the package is named aiservice", name=parsed.get("name"))
    return {"resources": sorted(resources)}


@case("handshake_accepts_secrets")
def handshake(run):
    response = run.main.stub.Handshake(
        provider_pb2.ProviderHandshakeRequest(engine_address="", configure_with_urn=True),
        timeout=CALL_TIMEOUT,
    )
    expect(response.accept_secrets, "accept_secrets", got=str(response))
    return {"accept_secrets": response.accept_secrets, "accept_resources": response.accept_resources}


# --- 2. CRD Check --------------------------------------------------------------------------


def sprocket_crd(run, **kwargs):
    # Not the fixture's kind: a CRD that passes Check is planned for the deployment.
    return crd_inputs(run.group, plural="sprockets", kind="Sprocket", **kwargs)


@case("crd_check_derives_name_from_plural_and_group")
def crd_check_derived_name(run):
    response = run.crd.check("sprockets", sprocket_crd(run))
    expect_no_failures(response, "a valid CRD")
    name = at(from_struct(response.inputs), "metadata.name")
    expect(name == f"sprockets.{run.group}", "metadata.name = <plural>.<group>", got=name)
    return {"metadata.name": name}


@case("crd_check_rejects_two_storage_versions")
def crd_check_two_storage(run):
    versions = [widget_version("v1", storage=True), widget_version("v2", storage=True)]
    response = run.crd.check("sprockets", sprocket_crd(run, versions=versions))
    return {"reason": expect_failure(response, "spec.versions", "exactly one version", "storage", "found 2")}


@case("crd_check_requires_a_schema")
def crd_check_missing_schema(run):
    versions = [widget_version("v1", storage=True, schema=False)]
    response = run.crd.check("sprockets", sprocket_crd(run, versions=versions))
    return {
        "reason": expect_failure(response, "spec.versions[0].schema.openAPIV3Schema", "required", "structural")
    }


@case("crd_check_name_must_be_plural_dot_group")
def crd_check_name(run):
    response = run.crd.check("sprockets", sprocket_crd(run, name=f"gears.{run.group}"))
    return {
        "reason": expect_failure(response, "metadata.name", f"sprockets.{run.group}", f"gears.{run.group}")
    }


@case("crd_check_plural_must_be_lower_case")
def crd_check_upper_plural(run):
    inputs = crd_inputs(run.group, plural="Sprockets", kind="Sprocket")
    inputs["spec"]["names"]["singular"] = "sprocket"
    response = run.crd.check("sprockets", inputs)
    return {"reason": expect_failure(response, "spec.names.plural", "lower case", "Sprockets")}


@case("crd_check_rejects_a_non_structural_schema")
def crd_check_non_structural(run):
    version = widget_version("v1", storage=True)
    version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["model"] = {"description": "no type"}
    response = run.crd.check("sprockets", sprocket_crd(run, versions=[version]))
    prop = "spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.model"
    return {"reason": expect_failure(response, prop, "structural schema", "type is required")}


# --- 3. CRD lifecycle ----------------------------------------------------------------------


@case("crd_create_waits_established_read_same_id_delete_waits_gone")
def crd_lifecycle(run):
    inputs = run.crd.checked("gadgets-crd", crd_inputs(run.group, plural="gadgets", kind="Gadget"))
    name = f"gadgets.{run.group}"
    id, outputs = run.crd.create("gadgets-crd", inputs)
    expect(id == name, "Create returns the CRD's name as id", id=id)
    established = condition(outputs, "Established")
    expect(
        established is not None and established.get("status") == "True",
        "Create returns once status.conditions has Established=True",
        conditions=at(outputs, "status.conditions"),
    )
    read_id, read_outputs, read_inputs = run.crd.read("gadgets-crd", id, inputs)
    expect(read_id == id, "Read returns the same id", got=read_id)
    expect(at(read_outputs, "spec.names.plural") == "gadgets", "Read outputs are the live CRD", outputs=read_outputs)
    expect(at(read_inputs, "spec.group") == run.group, "Read inputs keep the user's fields", inputs=read_inputs)
    run.crd.delete("gadgets-crd", id, outputs)
    gone = run.kubectl("get", "crd", name, check=False)
    expect(gone.returncode != 0 and "NotFound" in gone.stderr, "kubectl get crd says NotFound after Delete",
           stderr=gone.stderr)
    return {"id": id, "established": established}


# --- 4. custom resource Check --------------------------------------------------------------


@case("cr_check_auto_names_from_the_random_seed")
def cr_check_autoname(run):
    names = []
    for seed in (b"\x01" * 32, b"\x01" * 32, b"\x02" * 32):
        response = run.cr.check("My_Widget", run.widget(), seed=seed)
        expect_no_failures(response, "a Widget without metadata.name")
        names.append(at(from_struct(response.inputs), "metadata.name"))
    first, again, other = names
    expect(isinstance(first, str) and first.startswith("my-widget-"), "a name made from the logical name",
           got=first)
    expect(re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", first or "") is not None, "a valid object name",
           got=first)
    expect(first == again, "the same seed gives the same name", names=names)
    expect(first != other, "a different seed gives a different name", names=names)
    return {"names": names}


@case("cr_check_wrong_type_names_path_and_integer")
def cr_check_wrong_type(run):
    response = run.cr.check("typed", run.widget(name="typed", spec={"image": "x", "replicas": "three"}))
    return {"reason": expect_failure(response, "spec.replicas", "integer", "three")}


@case("cr_check_missing_required_field")
def cr_check_missing_required(run):
    response = run.cr.check("required", run.widget(name="required", spec={"replicas": 1}))
    return {"reason": expect_failure(response, "spec.image", "required")}


@case("cr_check_unknown_field_would_be_pruned")
def cr_check_unknown_field(run):
    response = run.cr.check("pruned", run.widget(name="pruned", spec={"image": "x", "replicaz": 3}))
    return {"reason": expect_failure(response, "spec.replicaz", "not in the schema", "drop", "replicas")}


@case("cr_check_bad_metadata_name")
def cr_check_bad_name(run):
    response = run.cr.check("bad", run.widget(name="Bad_Name"))
    return {"reason": expect_failure(response, "metadata.name", "Bad_Name", "not a valid name")}


@case("cr_check_api_version_not_in_crd")
def cr_check_bad_version(run):
    response = run.cr.check("versioned", run.widget(name="versioned", version="v9"))
    return {"reason": expect_failure(response, "apiVersion", "v9", f'did you mean "{run.group}/v1"?')}


@case("cr_check_kind_not_in_the_groups_crds")
def cr_check_bad_kind(run):
    response = run.cr.check("misspelled", run.widget(name="misspelled", kind="Widgit"))
    return {"reason": expect_failure(response, "kind", "Widgit", 'did you mean "Widget"?')}


# --- 5. unknowns ---------------------------------------------------------------------------


def unknown_case(run, logical, inputs, path):
    response = run.cr.check(logical, inputs)
    expect_no_failures(response, f"an unknown at {path}")
    checked = from_struct(response.inputs)
    expect(at(checked, path) == UNKNOWN, f"Check keeps {path} unknown", inputs=checked)
    id, outputs = run.cr.create(logical, checked, preview=True)
    expect(at(outputs, path) == UNKNOWN, f"preview Create outputs {path} as unknown", outputs=outputs)
    expect(run.main.alive(), "the provider is still running")
    return {"id": id, path: at(outputs, path)}


@case("unknown_whole_spec")
def unknown_spec(run):
    return unknown_case(run, "unknown-spec", run.widget(name="unknown-spec", spec=UNKNOWN), "spec")


@case("unknown_one_spec_field")
def unknown_field(run):
    inputs = run.widget(name="unknown-field", spec={"image": "x", "replicas": UNKNOWN})
    return unknown_case(run, "unknown-field", inputs, "spec.replicas")


@case("unknown_metadata_name")
def unknown_name(run):
    return unknown_case(run, "unknown-name", run.widget(name=UNKNOWN), "metadata.name")


@case("unknown_api_version")
def unknown_api_version(run):
    inputs = run.widget(name="unknown-api-version")
    inputs["apiVersion"] = UNKNOWN
    return unknown_case(run, "unknown-api-version", inputs, "apiVersion")


@case("unknown_list_element")
def unknown_list_element(run):
    inputs = run.widget(name="unknown-item", spec={"image": "x", "tags": ["a", UNKNOWN]})
    return unknown_case(run, "unknown-item", inputs, "spec.tags.1")


@case("provider_answers_after_unknowns")
def alive_after_unknowns(run):
    info = run.main.stub.GetPluginInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
    expect(run.main.alive() and bool(info.version), "GetPluginInfo still answers", version=info.version)
    return {"version": info.version}


# --- 6. secrets ----------------------------------------------------------------------------


@case("secret_in_spec_stays_secret_in_outputs")
def secret_outputs(run):
    plaintext = f"s3cr3t-{uuid.uuid4().hex}"
    run.secrets.append(plaintext)
    logical = "secret-widget"
    spec = {"image": "example/model:v1", "replicas": 1, "token": secret(plaintext)}
    inputs = run.cr.checked(logical, run.widget(name=logical, spec=spec))
    expect(is_secret(at(inputs, "spec.token")), "Check keeps spec.token secret", inputs=at(inputs, "spec"))
    id, outputs = run.cr.create(logical, inputs)
    token = at(outputs, "spec.token")
    expect(is_secret(token) and token.get("value") == plaintext, "Create outputs spec.token secret-wrapped",
           token="<secret>" if is_secret(token) else token)
    live = run.live(run.widget_kind(), logical)
    expect(at(live, "spec.token") == plaintext, "the cluster got the plaintext")
    _, read_outputs, read_inputs = run.cr.read(logical, id, inputs, outputs)
    expect(is_secret(at(read_outputs, "spec.token")), "Read outputs keep spec.token secret")
    expect(is_secret(at(read_inputs, "spec.token")), "Read inputs keep spec.token secret")
    news = json.loads(json.dumps(inputs))
    news["spec"]["replicas"] = 2
    updated = run.cr.update(logical, id, inputs, outputs, news)
    expect(is_secret(at(updated, "spec.token")), "Update outputs keep spec.token secret")
    # A failure about a secret value names the path and type, never the value.
    bad = run.widget(name=logical, spec={"image": "x", "replicas": secret(plaintext)})
    response = run.cr.check(logical, bad)
    reason = expect_failure(response, "spec.replicas", "integer", "secret")
    expect(plaintext not in reason, "the failure does not show the secret", reason=reason)
    run.remove_widget(logical, id, updated)
    return {"id": id, "check_failure": reason}


# --- 7. Diff -------------------------------------------------------------------------------


def diff_fixture(run):
    inputs = run.widget(name="diffed", spec={"image": "example/model:v1", "replicas": 3})
    outputs = json.loads(json.dumps(inputs))
    outputs["metadata"].update(
        {
            "namespace": run.namespace,
            "uid": "7f1c1d8e-0000-4000-8000-000000000001",
            "resourceVersion": "12345",
            "generation": 4,
            "creationTimestamp": "2024-01-01T00:00:00Z",
        }
    )
    outputs["spec"]["port"] = 8080  # a schema default the apiserver filled in
    outputs["status"] = {"conditions": [{"type": "Ready", "status": "True"}], "replicas": 3}
    return inputs, outputs


@case("diff_identical_inputs_is_none")
def diff_none(run):
    inputs, outputs = diff_fixture(run)
    response = run.cr.diff("diffed", f"{run.namespace}/diffed", inputs, outputs, inputs)
    expect(response.changes == DIFF_NONE, "DIFF_NONE", changes=response.changes, diffs=list(response.diffs))
    expect(not response.detailedDiff, "no detailed diff", detailed=str(response.detailedDiff))
    return {"changes": "DIFF_NONE"}


@case("diff_replicas_is_an_in_place_update")
def diff_replicas(run):
    inputs, outputs = diff_fixture(run)
    news = json.loads(json.dumps(inputs))
    news["spec"]["replicas"] = 4
    response = run.cr.diff("diffed", f"{run.namespace}/diffed", inputs, outputs, news)
    detailed = {k: KIND_NAMES[v.kind] for k, v in response.detailedDiff.items()}
    expect(response.changes == DIFF_SOME, "DIFF_SOME", changes=response.changes)
    expect(detailed == {"spec.replicas": "UPDATE"}, "detailedDiff {spec.replicas: UPDATE}", detailed=detailed)
    expect(not response.replaces, "no replacement", replaces=list(response.replaces))
    return {"detailedDiff": detailed}


@case("diff_kind_change_replaces_delete_first")
def diff_kind(run):
    inputs, outputs = diff_fixture(run)
    news = json.loads(json.dumps(inputs))
    news["kind"] = "Gizmo"
    response = run.cr.diff("diffed", f"{run.namespace}/diffed", inputs, outputs, news)
    detailed = {k: KIND_NAMES[v.kind] for k, v in response.detailedDiff.items()}
    expect(response.changes == DIFF_SOME, "DIFF_SOME", changes=response.changes)
    expect("kind" in response.replaces, "kind in replaces", replaces=list(response.replaces))
    expect(detailed.get("kind") == "UPDATE_REPLACE", "detailedDiff kind: UPDATE_REPLACE", detailed=detailed)
    expect(response.deleteBeforeReplace, "deleteBeforeReplace, since metadata.name is fixed")
    return {"replaces": list(response.replaces), "deleteBeforeReplace": response.deleteBeforeReplace}


@case("diff_ignores_server_defaults_and_status")
def diff_server_fields(run):
    inputs, outputs = diff_fixture(run)
    response = run.cr.diff("diffed", f"{run.namespace}/diffed", inputs, outputs, inputs)
    expect(response.changes == DIFF_NONE, "DIFF_NONE with defaults and status in olds",
           detailed=str(response.detailedDiff))
    # After an import only the outputs are recorded: still nothing to change.
    response = run.cr.diff("diffed", f"{run.namespace}/diffed", {}, outputs, inputs)
    expect(response.changes == DIFF_NONE, "DIFF_NONE when only outputs are recorded",
           detailed=str(response.detailedDiff))
    return {"changes": "DIFF_NONE"}


# --- 8. custom resource lifecycle ----------------------------------------------------------


@case("cr_create_then_update_in_place")
def cr_update_in_place(run):
    logical = "lifecycle"
    id, inputs, outputs = run.create_widget(logical)
    uid = at(outputs, "metadata.uid")
    expect(bool(uid), "Create outputs metadata.uid", outputs=outputs)
    expect(at(outputs, "spec.port") == 8080, "outputs carry the server's defaults", spec=at(outputs, "spec"))
    news = json.loads(json.dumps(inputs))
    news["spec"]["replicas"] = 5
    updated = run.cr.update(logical, id, inputs, outputs, news)
    expect(at(updated, "metadata.uid") == uid, "Update keeps the uid (in place)", before=uid,
           after=at(updated, "metadata.uid"))
    expect(at(updated, "spec.replicas") == 5, "Update outputs the new replicas", spec=at(updated, "spec"))
    live = run.live(run.widget_kind(), logical)
    expect(at(live, "spec.replicas") == 5 and at(live, "metadata.uid") == uid, "the live object was updated",
           live=at(live, "spec"))
    run.remove_widget(logical, id, updated)
    return {"id": id, "uid": uid}


@case("cr_read_after_kubectl_patch_reports_live_value")
def cr_read_drift(run):
    logical = "drifted"
    id, inputs, outputs = run.create_widget(logical)
    run.kubectl("patch", run.widget_kind(), logical, "--type=merge", "-p", '{"spec":{"image":"example/model:v2"}}')
    read_id, read_outputs, read_inputs = run.cr.read(logical, id, inputs, outputs)
    expect(read_id == id, "Read returns the same id", got=read_id)
    expect(at(read_outputs, "spec.image") == "example/model:v2", "outputs show the live image",
           spec=at(read_outputs, "spec"))
    expect(at(read_inputs, "spec.image") == "example/model:v2", "inputs show the live image",
           inputs=read_inputs)
    expect(at(read_inputs, "spec.port") is None and at(read_inputs, "status") is None,
           "inputs hold only the fields the user set", inputs=read_inputs)
    run.remove_widget(logical, id, read_outputs)
    return {"spec.image": at(read_outputs, "spec.image")}


@case("cr_read_of_deleted_object_is_empty_and_delete_succeeds")
def cr_read_deleted(run):
    logical = "vanished"
    id, inputs, outputs = run.create_widget(logical)
    run.kubectl("delete", run.widget_kind(), logical, "--wait=true")
    read_id, read_outputs, _ = run.cr.read(logical, id, inputs, outputs)
    expect(read_id == "", "Read of a deleted object returns an empty id", got=read_id)
    expect(not read_outputs, "and no properties", got=read_outputs)
    run.cr.delete(logical, id, outputs)
    return {"read_id": read_id}


# --- 9. preview is a server-side dry-run ---------------------------------------------------


@case("preview_create_is_a_server_dry_run_that_writes_nothing")
def preview_dry_run(run):
    logical = "previewed"
    inputs = run.cr.checked(logical, run.widget(name=logical))
    id, outputs = run.cr.create(logical, inputs, preview=True)
    expect(id == f"{run.namespace}/{logical}", "preview returns the id the object will have", id=id)
    expect(at(outputs, "spec.port") == 8080, "outputs include the schema default the apiserver applies",
           spec=at(outputs, "spec"))
    server_fields = {k: at(outputs, f"metadata.{k}") for k in ("uid", "creationTimestamp", "generation")}
    expect(all(v is not None for v in server_fields.values()), "server-populated metadata in the outputs",
           metadata=at(outputs, "metadata"))
    expect(at(outputs, "metadata.namespace") == run.namespace, "the configured namespace",
           metadata=at(outputs, "metadata"))
    expect(run.live(run.widget_kind(), logical) is None, "nothing was written: kubectl get says NotFound")
    return {"name": logical, "metadata": server_fields}


# --- 10. a 1 MiB spec ----------------------------------------------------------------------


@case("one_mib_spec_succeeds_or_fails_clearly")
def large_spec(run):
    logical = "large"
    data = "x" * (1024 * 1024)
    inputs = run.cr.checked(logical, run.widget(name=logical, spec={"image": "x", "data": data}))
    try:
        id, outputs = run.cr.create(logical, inputs)
    except grpc.RpcError as e:
        message = expect_message(e, logical)
        expect(
            any(w in message.lower() for w in ("too large", "limit", "exceeds")),
            "a clear apiserver size error",
            message=message,
        )
        result = {"outcome": "rejected", "message": short(message)}
    else:
        expect(len(at(outputs, "spec.data") or "") == len(data), "outputs carry the whole value")
        run.remove_widget(logical, id, outputs)
        result = {"outcome": "created", "id": id}
    info = run.main.stub.GetPluginInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
    expect(run.main.alive() and bool(info.version), "the provider still answers")
    return result


# --- 11. unreachable cluster, 12. bad credentials ------------------------------------------


def write_kubeconfig(run, name, server, user, ca=None):
    cluster = {"server": server}
    if ca:
        cluster["certificate-authority-data"] = ca
    else:
        cluster["insecure-skip-tls-verify"] = True
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
    path = os.path.join(run.workdir, f"{name}.kubeconfig")
    with open(path, "w") as f:
        yaml.safe_dump(config, f)
    return path


def expect_no_panic(provider):
    log_text = provider.stderr()
    expect(provider.alive(), f"provider {provider.label} still running")
    expect("panicked" not in log_text, f"no panic in provider {provider.label}'s log",
           log=log_text[-2000:])


@case("unreachable_cluster_error_names_the_object")
def unreachable(run):
    provider = run.provider("unreachable")
    path = write_kubeconfig(run, "unreachable", "https://127.0.0.1:1", {"token": "anything"})
    provider.configure(path, run.namespace)
    client = Client(provider, CR_TOKEN)
    logical = "unreachable-widget"
    inputs = run.widget(name=logical)
    error = rpc_error(client.create, logical, inputs)
    message = expect_message(error, "cannot reach the cluster", logical, "connection refused")
    # Check and a preview's create go on without the cluster (a CI machine that cannot reach
    # it): validated against what the deployment plans, what the cluster would fill in
    # unknown, and one warning naming the cluster.
    checked = client.checked(logical, inputs)
    id, outputs = client.create(logical, checked, preview=True)
    expect(id == "", "a preview without the cluster has no id yet", id=id)
    expect(at(outputs, "spec") == at(inputs, "spec"), "the preview shows the inputs", outputs=outputs)
    client.checked(logical, inputs)
    log_text = provider.stderr()
    warned = log_text.count("this preview goes on without it")
    expect(warned == 1, "one warning that the preview goes on without the cluster", warned=warned)
    expect("cannot reach the cluster at https://127.0.0.1:1/" in log_text,
           "the warning names the cluster", log=log_text[-2000:])
    # Delete of a recorded object names its id.
    error = rpc_error(client.delete, logical, f"{run.namespace}/{logical}", inputs)
    delete_message = expect_message(error, "cannot reach the cluster", f"{run.namespace}/{logical}")
    expect_no_panic(provider)
    return {"create": message, "delete": delete_message}


@case("invalid_credentials_error_mentions_credentials_and_object")
def bad_credentials(run):
    with open(run.kubeconfig) as f:
        real = yaml.safe_load(f)
    current = next(c for c in real["contexts"] if c["name"] == real["current-context"])["context"]
    cluster = next(c for c in real["clusters"] if c["name"] == current["cluster"])["cluster"]
    ca = cluster.get("certificate-authority-data")
    if not ca and cluster.get("certificate-authority"):
        with open(cluster["certificate-authority"], "rb") as f:
            ca = base64.b64encode(f.read()).decode()
    provider = run.provider("badcreds")
    user = {"token": f"bogus-token-{uuid.uuid4().hex}"}
    path = write_kubeconfig(run, "badcreds", cluster["server"], user, ca)
    provider.configure(path, run.namespace)
    logical = "badcreds-widget"
    error = rpc_error(Client(provider, CR_TOKEN).create, logical, run.widget(name=logical))
    message = expect_message(error, "credentials", "401", logical)
    expect_no_panic(provider)
    return {"message": message}


# --- 13. another field manager -------------------------------------------------------------


@case("field_manager_conflict_names_manager_and_field_then_force")
def conflict(run):
    logical = "contested"
    id, inputs, outputs = run.create_widget(logical)
    run.kubectl("patch", run.widget_kind(), logical, "--type=merge", "-p", '{"spec":{"replicas":7}}')
    news = json.loads(json.dumps(inputs))
    news["spec"]["replicas"] = 2
    error = rpc_error(run.cr.update, logical, id, inputs, outputs, news)
    message = expect_message(error, "kubectl-patch", ".spec.replicas", logical)
    forced = json.loads(json.dumps(news))
    # The neutral name (the alias pulumi.com/patchForce is tested in tests/ownership.rs).
    forced["metadata"]["annotations"] = {"aiservice.example.com/patch-force": "true"}
    updated = run.cr.update(logical, id, inputs, outputs, forced)
    expect(at(updated, "spec.replicas") == 2, "the forced update applies", spec=at(updated, "spec"))
    live = run.live(run.widget_kind(), logical)
    expect(at(live, "spec.replicas") == 2, "the live object has the program's replicas", live=at(live, "spec"))
    run.remove_widget(logical, id, updated)
    return {"conflict": message}


# --- 14. created but not ready -------------------------------------------------------------


def not_ready_widget(run, logical):
    """A Widget whose status says Ready=False (created with skipAwait, status patched)."""
    # pulumi-kubernetes' alias of aiservice.example.com/skip-await.
    id, inputs, outputs = run.create_widget(logical, annotations={"pulumi.com/skipAwait": "true"})
    status = {
        "status": {
            "conditions": [{"type": "Ready", "status": "False", "reason": "Loading", "message": "model loading"}]
        }
    }
    run.kubectl(
        "patch", run.widget_kind(), logical, "--subresource=status", "--type=merge", "-p", json.dumps(status)
    )
    news = json.loads(json.dumps(inputs))
    del news["metadata"]["annotations"]
    news["spec"]["replicas"] = 3
    return id, inputs, outputs, news


def init_failed(error):
    """The ErrorResourceInitFailed detail of a gRPC error, or None."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for any_detail in status.details:
                detail = provider_pb2.ErrorResourceInitFailed()
                if any_detail.Unpack(detail):
                    return status, detail
    return None


@case("not_ready_update_returns_init_failed_with_id_and_properties")
def not_ready(run):
    logical = "loading"
    id, inputs, outputs, news = not_ready_widget(run, logical)
    started = time.monotonic()
    error = rpc_error(run.cr.update, logical, id, inputs, outputs, news, timeout=3)
    elapsed = time.monotonic() - started
    expect(error.code() == grpc.StatusCode.UNKNOWN, "gRPC code UNKNOWN", code=str(error.code()))
    message = expect_message(error, "not ready", logical)
    # The object named once, by kind and id, then why.
    expect(message.startswith(f"Widget {id} was created but is not ready: ") and message.count(id) == 1,
           "the message names the object once", message=message)
    found = init_failed(error)
    expect(found is not None, "grpc-status-details-bin carries pulumirpc.ErrorResourceInitFailed",
           metadata=str(error.trailing_metadata()))
    status, detail = found
    props = from_struct(detail.properties)
    expect(detail.id == id, "the detail's id is the object's id", got=detail.id)
    expect(at(props, "spec.replicas") == 3, "the detail's properties are the applied object", props=props)
    ready = condition(props, "Ready")
    expect(ready is not None and ready.get("message") == "model loading", "properties carry status.conditions",
           props=props)
    reasons = " ".join(detail.reasons)
    for word in ("Ready", "model loading", "3s"):
        expect(word in reasons, f"the reason mentions {word!r}", reasons=list(detail.reasons))
    expect(at(from_struct(detail.inputs), "spec.replicas") == 3, "the detail carries the inputs")
    expect(2.5 <= elapsed < 30, "the wait honours the 3 s timeout", elapsed=f"{elapsed:.1f}s")
    run.remove_widget(logical, id, props)
    return {"message": message, "reasons": list(detail.reasons), "elapsed_s": round(elapsed, 1)}


# --- 15. Cancel ----------------------------------------------------------------------------


@case("cancel_ends_a_waiting_update_promptly")
def cancel(run):
    # Cancel is for good: this provider takes no more calls after it, so use a separate one.
    provider = run.provider("cancel")
    provider.configure(run.kubeconfig, run.namespace)
    client = Client(provider, CR_TOKEN)
    logical = "cancelled"
    id, inputs, outputs, news = not_ready_widget(run, logical)
    outcome = {}

    def update():
        try:
            outcome["result"] = client.update(logical, id, inputs, outputs, news, timeout=300)
        except grpc.RpcError as e:
            outcome["error"] = e
        outcome["ended"] = time.monotonic()

    thread = threading.Thread(target=update, daemon=True)
    thread.start()
    time.sleep(2)
    expect(thread.is_alive(), "the update is still waiting before Cancel", outcome=str(outcome))
    cancelled_at = time.monotonic()
    provider.stub.Cancel(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
    thread.join(timeout=30)
    expect(not thread.is_alive(), "the update returned after Cancel")
    took = outcome["ended"] - cancelled_at
    expect("error" in outcome, "the cancelled update fails", outcome=str(outcome.get("result")))
    message = expect_message(outcome["error"], "cancel", logical)
    expect(took < 5, "it returned within 5 s of Cancel", took=f"{took:.2f}s")
    expect_no_panic(provider)
    run.remove_widget(logical, id, outputs)
    return {"message": message, "returned_after_s": round(took, 2)}


# --- teardown and whole-run checks ---------------------------------------------------------


@case("teardown_fixture_crd_delete_waits_gone")
def teardown(run):
    expect(run.fixture is not None, "the fixture CRD was created")
    id, outputs = run.fixture
    run.crd.delete("widgets-crd", id, outputs)
    gone = run.kubectl("get", "crd", id, check=False)
    expect(gone.returncode != 0 and "NotFound" in gone.stderr, "the fixture CRD is gone", stderr=gone.stderr)
    return {"deleted": id}


@case("secrets_never_reach_the_provider_log")
def secrets_never_logged(run):
    expect(run.secrets, "a secret was sent (case secret_in_spec_stays_secret_in_outputs ran)")
    log_text = run.main.stderr()
    # The log must be verbose enough for this to mean something.
    expect(run.widget_kind().split(".")[0] in log_text.lower() or "widget" in log_text.lower(),
           "the -v=9 log mentions the resources it handled", size=len(log_text))
    for plaintext in run.secrets:
        expect(plaintext not in log_text, "the secret's plaintext is not in stderr",
               context=log_text[max(0, log_text.find(plaintext) - 300): log_text.find(plaintext) + 100])
    return {"log_bytes": len(log_text), "secrets_checked": len(run.secrets)}


@case("provider_never_panicked")
def never_panicked(run):
    info = run.main.stub.GetPluginInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
    expect(bool(info.version), "GetPluginInfo answers at the end")
    expect_no_panic(run.main)
    expect(run.main.extra_stdout == "", "nothing but the port on stdout", stdout=run.main.extra_stdout)
    return {"version": info.version}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("provider")
    parser.add_argument("kubeconfig")
    parser.add_argument("namespace")
    parser.add_argument("group")
    parser.add_argument("--expect-version")
    parser.add_argument("--only", nargs="*", help="run only these cases (setup and teardown always run)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="aiservice-conformance-") as workdir:
        run = Run(args, workdir)
        try:
            for name, fn in CASES:
                if args.only and name not in args.only and not name.startswith(("setup_", "teardown_")):
                    continue
                started = time.monotonic()
                try:
                    detail = fn(run)
                    ok = True
                except Failed as e:
                    ok, detail = False, e.detail
                except grpc.RpcError as e:
                    ok, detail = False, {"unexpected gRPC error": str(e.code()), "message": e.details()}
                except Exception as e:  # every case reports; none aborts the run
                    ok, detail = False, {"exception": repr(e), "traceback": traceback.format_exc()[-1500:]}
                log(f"{name}: {'ok' if ok else 'FAILED'} ({time.monotonic() - started:.1f}s)")
                print(json.dumps({"case": name, "ok": ok, "detail": detail}, default=str), flush=True)
        finally:
            for provider in [run.main, *run.extra_providers]:
                provider.stop()


if __name__ == "__main__":
    main()
