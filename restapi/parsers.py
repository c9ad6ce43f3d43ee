"""The API's JSON parser: plain JSON, and text the database can store.

PostgreSQL text cannot hold NUL characters and UTF-8 cannot hold lone surrogates (which
JSON's \\uXXXX escapes can express), so a body carrying either is refused here with a 400
naming the field, before any service sees it."""

from rest_framework import parsers
from rest_framework.exceptions import ValidationError


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unstorable_text_errors(data, path: str = "") -> dict[str, list[str]]:
    """{field: [message]} for every string (key or value) in `data` that cannot be stored."""
    errors: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _unstorable(key):
                errors[path or "non_field_errors"] = ["Field names must be plain text."]
                continue
            errors.update(unstorable_text_errors(value, name))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            errors.update(unstorable_text_errors(value, f"{path}[{index}]"))
    elif isinstance(data, str) and _unstorable(data):
        errors[path or "non_field_errors"] = [
            "Text may not contain NUL characters or unpaired surrogates."
        ]
    return errors


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        errors = unstorable_text_errors(data)
        if errors:
            raise ValidationError(errors)
        return data
