"""The honest OpenAPI description: our real error body on every 4xx/5xx, and the caps the server is configured with.

FastAPI documents its validation-error array for 422, but this API answers every error as `{"detail": "message"}`
(app.register_error_handlers); each route lists its errors with `errors(...)`, which also keeps FastAPI from adding
its default 422. Vocabulary keys and country codes go into the parameter schemas as enums, so that a client (or a
property-based tester) can tell a valid request from an invalid one without calling the server.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import WithJsonSchema

from nzc_knowledge.api.schemas import ErrorResponse
from nzc_knowledge.settings import Settings
from nzc_knowledge.taxonomy import TYPE_KEYS, keys_of

DEFAULT_DESCRIPTIONS = {
    400: "The body cannot be parsed (not UTF-8 / JSON / multipart as declared)",
    401: "No bearer token (send 'Authorization: Bearer <NZC_ADMIN_TOKEN>')",
    403: "Wrong token, or admin endpoints disabled because NZC_ADMIN_TOKEN is not set",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "The request body is larger than the server's limit",
    422: "Invalid parameter or body; the message names it and says what is accepted",
    500: "Unexpected error; the incident was logged",
    503: "No index snapshot is loaded yet",
}
ADMIN_ERRORS = (401, 403)


def errors(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with the `{"detail": str}` body, e.g. errors(503, e404="No such id")."""
    wanted = {status: DEFAULT_DESCRIPTIONS[status] for status in statuses}
    wanted.update({int(key.removeprefix("e")): text for key, text in described.items()})
    return {status: {"model": ErrorResponse, "description": text} for status, text in sorted(wanted.items())}


def _enum_items(values: list[str] | tuple[str, ...]) -> Any:
    return WithJsonSchema({"type": "string", "enum": list(values)})


DomainKey = Annotated[str, _enum_items(keys_of("domains"))]
BarrierKey = Annotated[str, _enum_items(keys_of("barriers"))]
LeverKey = Annotated[str, _enum_items(keys_of("levers"))]
TypeKey = Annotated[str, _enum_items(TYPE_KEYS)]
TwoLetterCode = Annotated[str, WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{2}$"})]
CityName = Annotated[str, WithJsonSchema({"type": "string", "maxLength": 100})]  # the filter says why when longer


def _country_codes() -> list[str]:
    from nzc_knowledge.recommend.names import iso_countries

    return sorted({*iso_countries(), "EL", "UK"})  # EL and UK are read as GR and GB


class _CountryCodeSchema:
    """The registry's ISO 3166-1 codes as an enum, computed when the schema is built, not at import."""

    def __init__(self, allow_empty: bool = False) -> None:
        self.allow_empty = allow_empty

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string", "enum": _country_codes() + ([""] if self.allow_empty else [])}


CountryCode = Annotated[str, _CountryCodeSchema()]
# A single optional country parameter reads an empty value as "no country" (`?country=`).
OptionalCountryCode = Annotated[str, _CountryCodeSchema(allow_empty=True)]


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve a description that states this server's caps (NZC_MAX_LIMIT, NZC_MAX_QUERY_LENGTH) and its 500 body."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            _state_caps(schema, settings)
            _share_country_enums(schema)
            for operations in schema["paths"].values():
                for operation in operations.values():
                    operation["responses"].setdefault("500", {
                        "description": DEFAULT_DESCRIPTIONS[500],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
                    })
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _state_caps(schema: dict[str, Any], settings: Settings) -> None:
    for path, name, key, value in (
        ("/search", "limit", "maximum", settings.max_limit),
        ("/search", "q", "maxLength", settings.max_query_length),
        ("/resources/{resource_id}/similar", "limit", "maximum", settings.max_limit),
    ):
        for parameter in schema["paths"].get(path, {}).get("get", {}).get("parameters", []):
            if parameter["name"] == name:
                parameter["schema"][key] = value


def _share_country_enums(schema: dict[str, Any]) -> None:
    """Name the ~250-code country enum once, in components, instead of inlining it at every parameter."""
    codes = _country_codes()
    shared = {"CountryCode": {"type": "string", "enum": codes, "description": "ISO 3166-1 alpha-2 (EL and UK read as GR, GB)"},
              "OptionalCountryCode": {"type": "string", "enum": [*codes, ""], "description": "A country code; empty: any"}}
    by_enum = {tuple(body["enum"]): name for name, body in shared.items()}

    def replace(node: Any) -> Any:
        if isinstance(node, dict):
            name = by_enum.get(tuple(node.get("enum", ()))) if node.get("type") == "string" else None
            if name and set(node) <= {"type", "enum"}:
                return {"$ref": f"#/components/schemas/{name}"}
            return {key: replace(value) for key, value in node.items()}
        if isinstance(node, list):
            return [replace(item) for item in node]
        return node

    schema["paths"] = replace(schema["paths"])
    schema.setdefault("components", {}).setdefault("schemas", {}).update(shared)
