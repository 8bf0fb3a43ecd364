"""Jira's published OpenAPI specs as the emulator's contract: operation index, scopes, request/response validation.

The specs are read once per process (lazily). Validation uses openapi-schema-validator's OAS 3.0 validators
(``nullable``, ``readOnly``/``writeOnly``) over a ``referencing`` registry holding the whole spec, so ``$ref``
resolves the way the spec means it; one compiled validator is cached per operation and direction.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

PLATFORM_FILE = "jira-platform-openapi.json"
SOFTWARE_FILE = "jira-software-openapi.json"
_URNS = {PLATFORM_FILE: "urn:jira:platform", SOFTWARE_FILE: "urn:jira:software"}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
CONNECT_LEVELS = ("READ", "WRITE", "DELETE", "PROJECT_ADMIN", "ADMIN")  # each implies the ones before it
# The 2022 agile spec lists no (or only granular) OAuth scopes; Jira accepts the classic ones for it.
_AGILE_CLASSIC = {"GET": "read:jira-work"}
_AGILE_CLASSIC_WRITE = "write:jira-work"


def reference_dir() -> Path:
    """Where the vendored specs live: ``$JIRA_REFERENCE_DIR`` or ``<repo>/../shared/reference``."""
    env = os.environ.get("JIRA_REFERENCE_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "reference"


# Parsing the spec takes seconds and ~70 MB: threads that ask at once must wait for one parse, not each do their own.
_PARSE_LOCK = threading.RLock()


def _parsed_once(fn: Callable[..., Any]) -> Callable[..., Any]:
    cached = lru_cache(maxsize=None)(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        with _PARSE_LOCK:
            return cached(*args)

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return wrapper


@_parsed_once
def load(filename: str) -> dict[str, Any]:
    """One spec document, parsed once per process."""
    with (reference_dir() / filename).open(encoding="utf-8") as fh:
        return json.load(fh)


@dataclass
class Operation:
    """One operation of the spec, with what the pipeline needs precomputed."""

    method: str
    template: str
    source: str  # spec file name
    pointer: str  # JSON pointer of the operation inside its spec
    raw: dict[str, Any] = field(repr=False)
    query_params: dict[str, dict[str, Any]] = field(repr=False)

    @property
    def connect_scope(self) -> str | None:
        return self.raw.get("x-atlassian-connect-scope")

    @property
    def deprecated(self) -> bool:
        return bool(self.raw.get("deprecated"))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _index_spec(filename: str, out: dict[tuple[str, str], Operation]) -> None:
    spec = load(filename)
    for template, item in spec.get("paths", {}).items():
        shared = [p for p in item.get("parameters", []) if isinstance(p, dict)]
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = {}
            for p in shared + list(op.get("parameters", [])):
                p = _deref(spec, p)
                if p.get("in") == "query":
                    params[p["name"]] = p
            out[(method.upper(), template)] = Operation(
                method=method.upper(), template=template, source=filename,
                pointer=f"/paths/{_escape(template)}/{method}", raw=op, query_params=params)


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@_parsed_once
def index() -> dict[tuple[str, str], Operation]:
    """All operations of both specs keyed by ``(METHOD, path template)``."""
    out: dict[tuple[str, str], Operation] = {}
    _index_spec(PLATFORM_FILE, out)
    _index_spec(SOFTWARE_FILE, out)
    return out


def operation(method: str, template: str) -> Operation | None:
    return index().get((method.upper(), template))


def connect_scope(method: str, template: str) -> str | None:
    """The Connect scope an operation needs (``READ`` ... ``ADMIN``, ``NONE``, ``INACCESSIBLE``), or None."""
    op = operation(method, template)
    return op.connect_scope if op else None


def oauth_scopes(method: str, template: str) -> list[frozenset[str]]:
    """The alternative OAuth 2.0 scope sets for an operation; a token needs every scope of one set.

    Taken from the operation's ``security`` OAuth2 entries and its ``x-atlassian-oauth2-scopes`` in state
    ``Current`` (the classic scopes). Agile operations from the old software spec also accept the classic
    ``read:jira-work`` (GET) / ``write:jira-work`` scopes, which is how Jira treats them.

    Only an explicit empty OAuth2 requirement (``{"OAuth2": []}``, e.g. ``GET /serverInfo``) means "any token":
    ``frozenset()``. The empty requirement ``{}`` that most operations also list is the anonymous (and Connect)
    way in; it is no free pass for an OAuth token, which still needs the operation's scopes.
    """
    op = operation(method, template)
    if op is None:
        return []
    found: list[frozenset[str]] = []
    for entry in op.raw.get("security", []):
        if "OAuth2" in entry:
            found.append(frozenset(entry["OAuth2"] or ()))
    for entry in op.raw.get("x-atlassian-oauth2-scopes", []):
        if entry.get("state") == "Current" and entry.get("scopes"):
            found.append(frozenset(entry["scopes"]))
    if op.source == SOFTWARE_FILE:
        found.append(frozenset({_AGILE_CLASSIC.get(op.method, _AGILE_CLASSIC_WRITE)}))
    unique: list[frozenset[str]] = []
    for scopes in found:
        if scopes not in unique:
            unique.append(scopes)
    return unique


# -- schema validators ---------------------------------------------------------------------------------------
@_parsed_once
def _registry() -> Registry:
    # The spec documents are not JSON Schemas themselves; registering them as draft-4 resources lets "$ref":
    # "#/components/schemas/X" resolve against the whole document from inside any operation schema.
    resources = [(urn, Resource(contents=_with_schema_errata(name), specification=DRAFT4))
                 for name, urn in _URNS.items()]
    return Registry().with_resources(resources)


def _gadget_position(_published: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["row", "column"],
            "properties": {"row": {"type": "integer"}, "column": {"type": "integer"}}}


def _default_value_union(published: dict[str, Any]) -> dict[str, Any]:
    # Each branch is the spec's own schema for that value type, selected by the discriminator's ``type`` (which
    # draft-4 validation doesn't know): exactly one branch can match, as the discriminator means.
    mapping = published["discriminator"]["mapping"]
    branches = [{"allOf": [{"$ref": ref}, {"properties": {"type": {"enum": [kind]}}}]}
                for kind, ref in sorted(mapping.items())]
    return {"type": "object", "required": ["type"], "oneOf": branches}


def _project_with_keys(published: dict[str, Any]) -> dict[str, Any]:
    keys = {"type": "array", "items": {"type": "string"}, "readOnly": True}
    return {**published, "properties": {**published["properties"], "projectKeys": keys}}


# The published spec contradicts Jira in a few shared component schemas; each erratum rewrites one component (for
# every operation using it, in requests and responses alike) and says why. Keys: (spec file, component name).
def _share_role_by_id(schema: dict[str, Any]) -> dict[str, Any]:
    """SharePermission.role: a request names the role by its integer id, which ProjectRole marks readOnly."""
    props = dict(schema.get("properties", {}))
    props["role"] = {"anyOf": [{"$ref": "#/components/schemas/ProjectRole"},
                               {"type": "object", "required": ["id"], "additionalProperties": False,
                                "properties": {"id": {"type": "integer", "format": "int64"}}}],
                     "description": props.get("role", {}).get("description", "")}
    return {**schema, "properties": props}


SCHEMA_ERRATA: dict[tuple[str, str], tuple[Any, str]] = {
    (PLATFORM_FILE, "SharePermission"): (
        _share_role_by_id,
        "its role property says 'For a request, specify the id for the role', but ProjectRole.id is readOnly, "
        "so no request sharing with a project role validates"),
    (PLATFORM_FILE, "DashboardGadgetPosition"): (
        _gadget_position,
        "the spec names the properties by their descriptions ('The row position of the gadget.'); its own "
        "examples and Jira use {\"row\": 0, \"column\": 0}"),
    (PLATFORM_FILE, "CustomFieldContextDefaultValue"): (
        _default_value_union,
        "a discriminated oneOf whose base says additionalProperties: false with no properties, so no value "
        "validates; and without the discriminator several branches match the same value"),
    (PLATFORM_FILE, "Project"): (
        _project_with_keys,
        "GET /project/search and GET /project/{projectIdOrKey} document expand=projectKeys ('Returns all project "
        "keys associated with a project'), but the Project schema (additionalProperties: false) lacks the field"),
}


def _with_schema_errata(name: str) -> dict[str, Any]:
    """One spec document with its component errata applied (a shallow copy: the loaded spec stays as published)."""
    document = load(name)
    schemas = dict(document.get("components", {}).get("schemas", {}))
    for (source, component), (rewrite, _reason) in SCHEMA_ERRATA.items():
        if source == name and component in schemas:
            schemas[component] = rewrite(schemas[component])
    return {**document, "components": {**document.get("components", {}), "schemas": schemas}}


# The published spec contradicts Jira (and its own examples) in a few response schemas. Each erratum replaces one
# response schema and says why; keep the list short and evidence-based.
_PAGE = {"type": "object", "additionalProperties": False, "properties": {
    "isLast": {"type": "boolean"}, "maxResults": {"type": "integer"}, "nextPage": {"type": "string"},
    "self": {"type": "string"}, "startAt": {"type": "integer"}, "total": {"type": "integer"}}}
RESPONSE_ERRATA: dict[tuple[str, str, str], tuple[dict[str, Any], str]] = {
    ("GET", "/rest/api/3/fieldconfiguration", "200"): (
        {**_PAGE, "properties": {**_PAGE["properties"], "values": {
            "type": "array", "items": {"$ref": "urn:jira:platform#/components/schemas/FieldConfiguration"}}}},
        "the spec's page items are the write-only FieldConfigurationDetails; its example and Jira return "
        "FieldConfiguration objects (id, name, description, isDefault)"),
}

# Jira's spec puts writeOnly on schemas it also uses in responses (ScreenTypes in GET /screenscheme, ...), while
# Jira returns those properties; in responses writeOnly is therefore an annotation, not an error.
_ResponseValidator = validators.extend(OAS30ReadValidator, {"writeOnly": lambda *_args: iter(())})

# Format erratum: Jira writes (and accepts) timestamps as ``2024-03-01T09:00:00.000+0000``, an offset without the
# colon RFC 3339 wants, so the spec's own ``date-time`` format refuses Jira's answers (changelog ``created``) and
# its own examples (a worklog's ``started``: "2021-01-17T12:34:00.000+0000"). Exactly that shape is accepted in
# addition to RFC 3339: milliseconds and a four-digit offset; anything else still has to be RFC 3339.
JIRA_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")
FORMAT_CHECKER = copy.deepcopy(oas30_format_checker)


@FORMAT_CHECKER.checks("date-time")
def _jira_or_rfc3339_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats only judge strings (the type keyword judges the rest)
    if JIRA_DATE_TIME.match(value):
        return oas30_format_checker.conforms(f"{value[:-2]}:{value[-2:]}", "date-time")  # a real date and time
    return oas30_format_checker.conforms(value, "date-time")


_validators: dict[tuple[str, str, str], Any] = {}
_validators_lock = threading.Lock()


def _schema_pointer(op: Operation, where: str) -> str | None:
    """JSON pointer to the JSON schema of the request body (``where="request"``) or of a response status."""
    if where == "request":
        body = op.raw.get("requestBody")
        if not body:
            return None
        body = _deref(load(op.source), body)
        content = body.get("content", {})
        media = next((m for m in content if "json" in m), None)
        if media is None or "schema" not in content[media]:
            return None
        if "$ref" in op.raw["requestBody"]:
            return None  # a shared requestBody; handled by _deref above only for presence
        return f"{op.pointer}/requestBody/content/{_escape(media)}/schema"
    responses = op.raw.get("responses", {})
    status = where
    content = (responses.get(status) or {}).get("content", {})
    media = next((m for m in content if "json" in m), None)
    if media is None or "schema" not in content[media]:
        return None
    return f"{op.pointer}/responses/{status}/content/{_escape(media)}/schema"


def _validator(op: Operation, where: str) -> Any:
    key = (op.method, op.template, where)
    found = _validators.get(key)
    if found is not None:
        return found
    pointer = _schema_pointer(op, where)
    erratum = RESPONSE_ERRATA.get(key)
    if erratum is not None:
        schema: dict[str, Any] | None = erratum[0]
    else:
        schema = {"$ref": f"{_URNS[op.source]}#{pointer}"} if pointer is not None else None
    if schema is None:
        compiled: Any = False
    else:
        cls = OAS30WriteValidator if where == "request" else _ResponseValidator
        compiled = cls(schema, registry=_registry(), format_checker=FORMAT_CHECKER)
    with _validators_lock:
        _validators[key] = compiled
    return compiled


def _messages(validator: Any, instance: Any, prefix: str) -> list[str]:
    errors = list(validator.iter_errors(instance))
    out = []
    for err in errors:
        # anyOf/oneOf failures are reported through their most relevant branch, not as a wall of text
        err = best_match([err]) if err.context else err
        where = prefix + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        out.append(f"{where}: {err.message}")
    return sorted(set(out))


# -- request validation --------------------------------------------------------------------------------------
_TRUE_FALSE = {"true", "false"}


def _check_scalar(name: str, raw: str, schema: dict[str, Any]) -> str | None:
    kind = schema.get("type", "string")
    if kind == "integer":
        try:
            int(raw)
        except ValueError:
            return f"query.{name}: '{raw}' is not a valid integer"
    elif kind == "number":
        try:
            float(raw)
        except ValueError:
            return f"query.{name}: '{raw}' is not a valid number"
    elif kind == "boolean" and raw.lower() not in _TRUE_FALSE:
        return f"query.{name}: '{raw}' is not a valid boolean"
    enum = schema.get("enum")
    if enum and raw not in [str(e) for e in enum]:
        return f"query.{name}: '{raw}' is not one of {enum}"
    return None


def _validate_query(op: Operation, query: Any) -> list[str]:
    problems = []
    spec = load(op.source)
    getlist = query.getlist if hasattr(query, "getlist") else (
        lambda k: [] if k not in query else (query[k] if isinstance(query[k], list) else [query[k]]))
    for name, param in op.query_params.items():
        values = [str(v) for v in getlist(name)]
        if not values:
            if param.get("required"):
                problems.append(f"query.{name}: required parameter is missing")
            continue
        schema = _deref(spec, param.get("schema", {}))
        if schema.get("type") == "array":
            item = _deref(spec, schema.get("items", {}))
            # Jira takes arrays as repeated parameters and, for most, comma-separated values too
            values = [v for raw in values for v in raw.split(",")] if item.get("enum") else values
            checks = [(v, item) for v in values if v != ""]
        else:
            checks = [(values[-1], schema)]
        for raw, sch in checks:
            problem = _check_scalar(name, raw, sch)
            if problem:
                problems.append(problem)
    return problems


def validate_request(method: str, template: str, query: Any = None, body: Any = None,
                     *, has_body: bool | None = None) -> list[str]:
    """Spec violations of a request: query parameters (required, type, enum) and the JSON body.

    ``has_body`` distinguishes "no body sent" from a JSON ``null`` body; by default ``body is None`` means
    no body.
    """
    op = operation(method, template)
    if op is None:
        return [f"{method.upper()} {template} is not an operation of the Jira spec"]
    problems = _validate_query(op, query or {})
    sent = (body is not None) if has_body is None else has_body
    request_body = _deref(load(op.source), op.raw.get("requestBody") or {})
    if not sent:
        if request_body.get("required"):
            problems.append("body: the request body is required")
        return problems
    validator = _validator(op, "request")
    if validator:
        problems.extend(_messages(validator, body, "body"))
    return problems


def validate_response(method: str, template: str, status: int, body: Any) -> list[str]:
    """Spec violations of a response: undocumented success status, or a body not matching its schema."""
    op = operation(method, template)
    if op is None:
        return [f"{method.upper()} {template} is not an operation of the Jira spec"]
    responses = op.raw.get("responses", {})
    key = str(status)
    if key not in responses:
        if status < 400 and "default" not in responses:
            return [f"status {status} is not documented for {op.method} {op.template} "
                    f"(documented: {', '.join(sorted(responses))})"]
        return []  # error statuses (401, 403, 429, 5xx...) may come from any layer of Jira
    if status == 204 and body not in (None, b"", ""):
        return ["a 204 answer must not have a body"]
    validator = _validator(op, key)
    if not validator or status >= 400:
        return []
    return _messages(validator, body, "response")


def warm_up() -> None:
    """Load and index both specs now (the pytest plugin calls this once per session)."""
    index()
    _registry()
