"""Checks that JSON documents parse cleanly with the models of the real msgraph-sdk package, as
its clients read responses: through kiota's JSON parse node and the model's
`create_from_discriminator_value`. Each document must parse, and every property in it must be
one the model knows (kiota keeps unknown properties in `additional_data` without a word, which
would hide a misspelt name), at every depth, and every value one it can read (kiota reads an enum
value it does not know as null, also without a word).

Usage: check_graph_models.py FILE, where FILE holds [{"model":
"PrivilegedAccessGroupAssignmentScheduleRequest", "json": {...}}, ...] (the class name of a model
in `msgraph.generated.models`; with `"package": "msgraph_beta"`, in the beta SDK's). Prints one line per problem; exits 1 if there is any."""

import dataclasses
import enum
import importlib
import json
import re
import sys

from kiota_abstractions.serialization import Parsable
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter


def model_class(name, package="msgraph"):
    """`PrivilegedAccessGroupAssignmentSchedule` from `msgraph.generated.models.privileged_access_group_assignment_schedule`
    (`package` is `msgraph_beta` for the beta SDK's models, msgraph-beta-sdk)."""
    module = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return getattr(importlib.import_module(f"{package}.generated.models.{module}"), name)


def unknown_properties(value, path):
    """The properties kiota kept aside as unknown, in `value` and everything it holds."""
    problems = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            problems.extend(unknown_properties(item, f"{path}[{i}]"))
        return problems
    if not isinstance(value, Parsable) or isinstance(value, enum.Enum):
        return problems
    extra = getattr(value, "additional_data", None) or {}
    for key in extra:
        # An annotation (`@odata.context` of an entity a create answers with) describes the
        # response, not the entity: the SDK keeps it aside too.
        if key.startswith("@"):
            continue
        problems.append(f"{path}.{key}: not a property of {type(value).__name__}")
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            if field.name in ("additional_data", "backing_store"):
                continue
            problems.extend(unknown_properties(getattr(value, field.name), f"{path}.{field.name}"))
    return problems


def dropped(sent, read, path):
    """Values of `sent` that the model read as nothing (kiota reads an enum value it does not
    know as null), found by writing the parsed model back out."""
    problems = []
    if isinstance(sent, dict):
        read = read if isinstance(read, dict) else {}
        for key, value in sent.items():
            problems.extend(dropped(value, read.get(key), f"{path}.{key}"))
    elif isinstance(sent, list):
        read = read if isinstance(read, list) else []
        for i, value in enumerate(sent):
            problems.extend(dropped(value, read[i] if i < len(read) else None, f"{path}[{i}]"))
    elif sent is not None and read is None:
        problems.append(f"{path}: {sent!r} was read as nothing (not a value the model knows)")
    return problems


def written(parsed):
    """The parsed model as the SDK writes it, as JSON."""
    writer = JsonSerializationWriter()
    writer.write_object_value(None, parsed)
    return json.loads(writer.get_serialized_content())


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        docs = json.load(f)
    factory = JsonParseNodeFactory()
    problems = []
    for doc in docs:
        name = doc["model"]
        try:
            cls = model_class(name, doc.get("package", "msgraph"))
            node = factory.get_root_parse_node("application/json", json.dumps(doc["json"]).encode("utf-8"))
            parsed = node.get_object_value(cls)
        except Exception as e:  # the SDK's own error names the property or the value
            problems.append(f"{name}: does not parse: {e!r}")
            continue
        if type(parsed).__name__ != name:
            problems.append(f"{name}: parsed as {type(parsed).__name__}")
        problems.extend(f"{name}: {p}" for p in unknown_properties(parsed, name))
        problems.extend(f"{name}: {p}" for p in dropped(doc["json"], written(parsed), name))
    for p in problems:
        print(p)
    print(f"{len(docs)} documents checked, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
