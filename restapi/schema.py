"""OpenAPI post-processing: every operation documents the errors it can answer with, in
the one error shape of restapi.errors."""

ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in one sentence."},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": 'Messages per field or line, keyed like the body: "lines[2].quantity".',
        },
    },
    "required": ["detail", "errors"],
}

COMMON_ERRORS = {
    "400": "Invalid input, malformed JSON, unknown fields or JSON nested over 32 levels; "
    "`errors` names each offending field or line.",
    "401": "No credentials, or an unknown or revoked token.",
    "403": "Authenticated, but not allowed to do this (or a session request without CSRF).",
    "404": "Not found, or not one of your accounts' (never 403 for another account's data).",
    "429": "Too many requests for this user; retry after `Retry-After` seconds.",
}
BODY_ERRORS = {
    "413": "The body is over the size limit (2.5 MB); send it in smaller parts.",
    "415": "The body is not `application/json`.",
}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before retrying.",
    }
}


def _json_error(description):
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    # Request bodies refuse unknown fields (restapi.serializers.StrictFieldsMixin).
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema.setdefault("additionalProperties", False)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            wanted = dict(COMMON_ERRORS)
            if "requestBody" in operation:
                wanted.update(BODY_ERRORS)
            for code, description in wanted.items():
                responses.setdefault(code, _json_error(description))
            for code, response in responses.items():
                if code.isdecimal() and int(code) >= 400 and not response.get("content"):
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
            responses["429"].setdefault("headers", {}).update(RETRY_AFTER)
    return result
