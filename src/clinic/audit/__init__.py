"""The append-only log of who read or changed which patient's data."""
