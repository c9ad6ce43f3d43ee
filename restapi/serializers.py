"""Write serializers that refuse what they do not read.

DRF drops unknown keys silently, so a misspelt `{"backorder": "none"}` placed an order
that takes backorders. Every request serializer of the API mixes in StrictFieldsMixin
(nested ones too): an unknown key is a 400 naming it (`lines[2].qty`), together with the
body's other errors."""

from collections.abc import Mapping

from rest_framework.exceptions import ValidationError


def unknown_field_errors(data, known) -> dict[str, list[str]]:
    """{name: [message]} for each key of `data` that is not one of `known`."""
    if not isinstance(data, Mapping):
        return {}
    unknown = [str(name) for name in data if name not in known]
    if not unknown:
        return {}
    message = f"Unknown field. This accepts: {', '.join(sorted(known)) or 'no fields'}."
    return {name: [message] for name in unknown}


class StrictFieldsMixin:
    """Put before serializers.Serializer: `class XIn(StrictFieldsMixin, Serializer)`."""

    def to_internal_value(self, data):
        writable = [name for name, field in self.fields.items() if not field.read_only]
        unknown = unknown_field_errors(data, writable)
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                exc.detail.update(ValidationError(unknown).detail)
            raise
        if unknown:
            raise ValidationError(unknown)
        return value
