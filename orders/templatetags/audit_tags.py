from django import template

from orders.audit_sentences import audit_sentence

register = template.Library()


@register.filter
def as_sentence(event) -> str:
    """An audit record as a sentence (orders.audit_sentences)."""
    return audit_sentence(event)
