"""Money helpers shared by the payment services."""


def parse_cents(text):
    """Return the integer number of cents in a decimal string such as '12.34'."""
    return int(float(text) * 100)
