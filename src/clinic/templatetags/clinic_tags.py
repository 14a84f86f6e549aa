"""Template tags shared across the site."""

from django import template

from dystonia.selfcheck import URGENT_SIGNS, UrgentSign

register = template.Library()


@register.simple_tag
def urgent_signs() -> tuple[UrgentSign, ...]:
    """The urgent signs and what to do, shown on the self-check and every query form."""
    return URGENT_SIGNS
