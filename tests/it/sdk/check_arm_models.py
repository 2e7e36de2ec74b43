"""Checks that JSON documents parse cleanly with the models of the real azure-mgmt-authorization
package: each deserializes, and every property in the JSON is one the model knows (msrest drops
unknown properties silently, which would hide a misspelt name).

Usage: check_arm_models.py FILE, where FILE holds [{"model": "v2022_04_01.RoleDefinition",
"json": {...}}, ...]. Prints one line per problem; exits 1 if there is any."""

import copy
import importlib
import json
import sys


def model_class(name):
    version, cls = name.split(".")
    module = importlib.import_module(f"azure.mgmt.authorization.{version}.models")
    return module, getattr(module, cls)


def concrete(module, cls, value):
    """The subclass a polymorphic model's discriminator names (`ruleType` of a policy rule)."""
    for attr, subtypes in getattr(cls, "_subtype_map", {}).items():
        key = cls._attribute_map[attr]["key"]
        name = subtypes.get(value.get(key)) if isinstance(value, dict) else None
        if name is not None and hasattr(module, name):
            return getattr(module, name)
    return cls


def unknown_keys(module, cls, value, path):
    """Keys of `value` that `cls`'s attribute map does not name, recursively."""
    problems = []
    if not isinstance(value, dict):
        return problems
    cls = concrete(module, cls, value)
    known = {}
    for attr in cls._attribute_map.values():
        known[attr["key"].replace("\\.", "\u0000")] = attr["type"]

    def walk(obj, prefix):
        for key, item in obj.items():
            full = f"{prefix}{key}"
            if full in known:
                kind = known[full]
                inner = kind.strip("[]{}")
                target = getattr(module, inner, None)
                items = item if isinstance(item, list) else [item]
                if target is not None and hasattr(target, "_attribute_map"):
                    for i, sub in enumerate(items):
                        problems.extend(unknown_keys(module, target, sub, f"{path}{full}[{i}]."))
            elif any(k.startswith(full + ".") for k in known):
                # An object the model flattens (`properties.reviewedBy.principalId`): walk it; a
                # null one (the spec's examples write `"reviewedBy": null`) reads as its fields
                # all null.
                if isinstance(item, dict):
                    walk(item, full + ".")
                elif item is not None:
                    problems.append(f"{path}{full}: not an object, which {cls.__name__} reads it as")
            else:
                problems.append(f"{path}{full}: not a property of {cls.__name__}")

    walk(value, "")
    return problems


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        docs = json.load(f)
    problems = []
    for doc in docs:
        module, cls = model_class(doc["model"])
        try:
            # msrest takes the discriminator (`ruleType`) out of what it reads: give it a copy.
            cls.deserialize(copy.deepcopy(doc["json"]))
        except Exception as e:  # the SDK's own error names the property
            problems.append(f"{doc['model']}: does not deserialize: {e}")
            continue
        problems.extend(f"{doc['model']}: {p}" for p in unknown_keys(module, cls, doc["json"], ""))
    for p in problems:
        print(p)
    print(f"{len(docs)} documents checked, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
