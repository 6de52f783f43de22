"""Money helpers shared by the payment services."""

from decimal import Decimal


def parse_cents(text):
    """Return the integer number of cents in a decimal string such as '12.34'."""
    return int((Decimal(text.strip()) * 100).to_integral_value())
