"""Turn the OpenAPI 3.0 schemas of curation-api.yml into JSON Schema (2020-12) that `jsonschema` checks.

OpenAPI 3.0 spells "or null" as ``nullable: true`` (a keyword JSON Schema does not know), and ignores
keywords beside a ``$ref`` differently; both are rewritten here. `undeclared_keys` adds the check JSON
Schema cannot do for us without breaking ``allOf``: no field in a response that the spec does not name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

SPEC_PATH = Path(__file__).with_name("curation-api.yml")
_DROP = {"nullable", "example", "examples", "description", "summary"}


def load_spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text())


def to_json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    nullable = node.get("nullable") is True
    if "$ref" in node:
        ref: dict[str, Any] = {"$ref": node["$ref"]}
        return {"anyOf": [ref, {"type": "null"}]} if nullable else ref
    out = {key: to_json_schema(value) for key, value in node.items() if key not in _DROP}
    if nullable:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for one response schema, with the spec's components reachable by their $refs."""
    components = to_json_schema(spec["components"])
    return Draft202012Validator(
        {**to_json_schema(schema), "components": components}, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def response_schema(spec: dict[str, Any], path: str, status: str, method: str = "get") -> dict[str, Any]:
    response = spec["paths"][path][method]["responses"][status]
    if "$ref" in response:
        response = _resolve(spec, response["$ref"])
    content = response["content"]
    return (content.get("application/json") or content["application/problem+json"])["schema"]


def _resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def undeclared_keys(spec: dict[str, Any], instance: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Paths of object keys in `instance` that `schema` (OpenAPI, $refs and allOf followed) does not declare."""
    while "$ref" in schema:
        schema = _resolve(spec, schema["$ref"])
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        while "$ref" in part:
            part = _resolve(spec, part["$ref"])
        properties.update(part.get("properties", {}))
        if "items" in part and "items" not in schema:
            schema = {**schema, "items": part["items"]}
    found: list[str] = []
    if isinstance(instance, dict) and properties:
        for key, value in instance.items():
            if key not in properties:
                found.append(f"{where}.{key}")
            else:
                found += undeclared_keys(spec, value, properties[key], f"{where}.{key}")
    elif isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            found += undeclared_keys(spec, item, schema["items"], f"{where}[{index}]")
    return found
