"""The OpenAPI schema matches reality and documents what clients need; the docs page is
served from our own origin under the site's CSP."""

import re

import pytest
from django.core.management import call_command

SCHEMA = "/api/schema/?format=json"


@pytest.fixture
def schema(client, db):
    response = client.get(SCHEMA)
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_schema_generates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    assert (tmp_path / "schema.yml").read_text().startswith("openapi:")


def test_token_security_scheme(schema):
    assert schema["components"]["securitySchemes"]["Token"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schema["components"]["securitySchemes"]["Token"]["description"],
    }
    assert "Token <key>" in schema["components"]["securitySchemes"]["Token"]["description"]
    assert "basicAuth" not in schema["components"]["securitySchemes"]
    for path, method, operation in operations(schema):
        assert {"Token": []} in operation["security"], (method, path)


def test_every_operation_documents_its_errors_in_the_error_shape(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        for code in ("400", "401", "403", "404", "429"):
            assert code in responses, (method, path, code)
        if "requestBody" in operation:
            assert "415" in responses, (method, path)
        assert "Retry-After" in responses["429"]["headers"], (method, path)
        for code, response in responses.items():
            if int(code) >= 400:
                schema_ref = response["content"]["application/json"]["schema"]
                assert schema_ref == {"$ref": "#/components/schemas/Error"}, (method, path, code)
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "errors"}


def test_every_write_documents_its_request_body(schema):
    for path, method, operation in operations(schema):
        if method == "post":
            assert "application/json" in operation["requestBody"]["content"], path


def test_order_creation_documents_the_optional_idempotency_key(schema):
    operation = schema["paths"]["/api/v1/orders/"]["post"]
    (header,) = [p for p in operation["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key"
    assert header.get("required", False) is False
    assert "Optional" in header["description"]
    assert "422" in header["description"]
    assert "409" in header["description"]
    assert {"200", "201", "409", "422"} <= set(operation["responses"])


def test_list_endpoints_document_pagination_and_filters(schema):
    paths = schema["paths"]
    for path in ("/api/v1/skus/", "/api/v1/orders/", "/api/v1/invoices/", "/api/v1/inbound/"):
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert "page" in names, path
        body = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        ref = body["$ref"].rsplit("/", 1)[1]
        assert set(schema["components"]["schemas"][ref]["properties"]) == {
            "count",
            "next",
            "previous",
            "results",
        }
    assert {"style", "q", "core"} <= {
        p["name"] for p in paths["/api/v1/skus/"]["get"]["parameters"]
    }


def test_money_is_a_decimal_string_and_quantities_are_integers_in_the_schema(schema):
    components = schema["components"]["schemas"]
    line = components["LineOut"]["properties"]
    for name in ("quantity", "allocated", "backordered", "shipped", "cancelled"):
        assert line[name]["type"] == "integer", name
    order = components["OrderOut"]["properties"]
    for name in ("freight", "total"):
        assert order[name]["type"] == "string", name
        assert order[name]["format"] == "decimal", name
    assert line["promised_date"]["format"] == "date"


def test_docs_page_loads_self_hosted_assets_without_inline_script_or_style(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(source.startswith("/") for source in sources), sources
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source


def test_docs_script_points_at_the_schema(client, db):
    response = client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in response.content.decode()


def test_dates_are_documented_as_dates(schema):
    components = schema["components"]["schemas"]
    assert components["SKU"]["properties"]["next_eta"]["format"] == "date"
    assert components["SKU"]["properties"]["next_eta"]["nullable"] is True
    assert components["InboundRun"]["properties"]["eta"]["format"] == "date"
    assert components["LineOut"]["properties"]["expected_date"]["format"] == "date"


def test_request_bodies_declare_that_unknown_fields_are_refused(schema):
    requests = {
        name: component
        for name, component in schema["components"]["schemas"].items()
        if name.endswith("Request")
    }
    assert {"OrderInRequest", "LineInRequest", "StockCountRequest"} <= set(requests)
    assert all(c["additionalProperties"] is False for c in requests.values())


def test_the_directory_and_the_account_parameter_are_documented(schema):
    paths = schema["paths"]
    components = schema["components"]["schemas"]
    assert set(components["AccountOut"]["properties"]) == {"number", "name", "can_order"}
    assert set(components["ShipToOut"]["properties"]) == {
        "id",
        "account",
        "name",
        "address",
        "default",
    }
    for path in ("/api/v1/accounts/", "/api/v1/ship-tos/"):
        assert "get" in paths[path], path
    for path in ("/api/v1/skus/", "/api/v1/ship-tos/"):
        (account,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == "account"]
        assert "/api/v1/accounts/" in account["description"], path
