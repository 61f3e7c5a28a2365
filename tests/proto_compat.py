"""Dumps the engine's own protocol definitions for tests/proto_compat.rs.

Run by that test with the python3 of the provisioned PyPI `pulumi` venv (the same version as
the pulumi CLI). Imports the generated modules of the files our `proto/` mirrors, walks their
descriptors (and every file they import) and prints one JSON object on stdout:

    {
      "versions": {"pulumi": ..., "protobuf": ...},
      "sources": {"<proto file>": "<python module>"},
      "messages": {"<full name>": {"file": ..., "fields": [FIELD, ...]}},
      "enums": {"<full name>": {"<value name>": <number>, ...}},
      "services": {"<full name>": {"<method>": {"input_type": ..., "output_type": ...,
                                                 "client_streaming": ..., "server_streaming": ...}}}
    }

FIELD is {name, number, type, label, type_name, oneof, map_key, map_value}: `type` is the
descriptor type name (TYPE_STRING, ...); `label` is "singular", "optional" (proto3 `optional`,
a synthetic oneof), "repeated", "map" or "required"; `type_name` is the full message or enum
name without the leading dot (null for scalars and maps); `oneof` names a real (not synthetic)
oneof; a map field has `map_key` and `map_value` as {type, type_name}. Map-entry messages are
not listed as messages. tests/proto_compat.rs builds the same shape from our descriptor set.
"""

import importlib
import importlib.metadata
import json
import sys

from google.protobuf import descriptor_pb2

# The generated modules of the engine's definitions, one per file in our proto/.
PULUMI_MODULES = [
    "pulumi.runtime.proto.provider_pb2",
    "pulumi.runtime.proto.plugin_pb2",
    "pulumi.runtime.proto.engine_pb2",
    "pulumi.runtime.proto.resource_pb2",
]
# google.rpc.Status: googleapis-common-protos provides google/rpc/status.proto. The pulumi
# package also ships its own copy (pulumi.runtime.proto.status_pb2, registered as
# google/protobuf/status.proto); both define google.rpc.Status, so only one of them can be
# loaded into the default descriptor pool. Use the first that imports and say which.
STATUS_MODULES = [
    "google.rpc.status_pb2",
    "pulumi.runtime.proto.status_pb2",
]

TYPE_NAMES = descriptor_pb2.FieldDescriptorProto.Type.Name


def main():
    roots = []
    for name in PULUMI_MODULES:
        roots.append((name, importlib.import_module(name).DESCRIPTOR))
    errors = []
    for name in STATUS_MODULES:
        try:
            roots.append((name, importlib.import_module(name).DESCRIPTOR))
            break
        except Exception as e:  # noqa: BLE001 - reported below if no module works
            errors.append(f"{name}: {e!r}")
    else:
        sys.exit("no module providing google.rpc.Status imports: " + "; ".join(errors))

    out = {
        "versions": {
            "pulumi": importlib.metadata.version("pulumi"),
            "protobuf": importlib.metadata.version("protobuf"),
        },
        "sources": {},
        "messages": {},
        "enums": {},
        "services": {},
    }
    files = []
    seen = set()

    def visit(file_descriptor, module):
        if file_descriptor.name in seen:
            return
        seen.add(file_descriptor.name)
        out["sources"].setdefault(file_descriptor.name, module)
        proto = descriptor_pb2.FileDescriptorProto()
        file_descriptor.CopyToProto(proto)
        files.append(proto)
        for dep in file_descriptor.dependencies:
            visit(dep, f"(imported by {file_descriptor.name})")

    for module, file_descriptor in roots:
        out["sources"][file_descriptor.name] = module
    for module, file_descriptor in roots:
        visit(file_descriptor, module)

    # Map-entry messages by full name, so map fields can be recorded as maps.
    map_entries = {}

    def index_maps(prefix, message):
        full = f"{prefix}.{message.name}"
        if message.options.map_entry:
            fields = {f.name: f for f in message.field}
            map_entries[full] = (fields["key"], fields["value"])
        for nested in message.nested_type:
            index_maps(full, nested)

    for proto in files:
        for message in proto.message_type:
            index_maps(proto.package, message)

    def type_of(field):
        return {"type": TYPE_NAMES(field.type), "type_name": field.type_name.lstrip(".") or None}

    def field_json(message, field):
        entry = map_entries.get(field.type_name.lstrip("."))
        if field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED and entry:
            label = "map"
        elif field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
            label = "repeated"
        elif field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REQUIRED:
            label = "required"
        elif field.proto3_optional:
            label = "optional"
        else:
            label = "singular"
        oneof = None
        if field.HasField("oneof_index") and not field.proto3_optional:
            oneof = message.oneof_decl[field.oneof_index].name
        return {
            "name": field.name,
            "number": field.number,
            "type": TYPE_NAMES(field.type),
            "label": label,
            "type_name": None if label == "map" else (field.type_name.lstrip(".") or None),
            "oneof": oneof,
            "map_key": type_of(entry[0]) if label == "map" else None,
            "map_value": type_of(entry[1]) if label == "map" else None,
        }

    def add_enum(prefix, enum):
        out["enums"][f"{prefix}.{enum.name}"] = {v.name: v.number for v in enum.value}

    def add_message(file_name, prefix, message):
        full = f"{prefix}.{message.name}"
        for nested in message.nested_type:
            add_message(file_name, full, nested)
        for enum in message.enum_type:
            add_enum(full, enum)
        if message.options.map_entry:
            return
        out["messages"][full] = {
            "file": file_name,
            "fields": [field_json(message, f) for f in message.field],
        }

    for proto in files:
        for message in proto.message_type:
            add_message(proto.name, proto.package, message)
        for enum in proto.enum_type:
            add_enum(proto.package, enum)
        for service in proto.service:
            out["services"][f"{proto.package}.{service.name}"] = {
                m.name: {
                    "input_type": m.input_type.lstrip("."),
                    "output_type": m.output_type.lstrip("."),
                    "client_streaming": m.client_streaming,
                    "server_streaming": m.server_streaming,
                }
                for m in service.method
            }

    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
