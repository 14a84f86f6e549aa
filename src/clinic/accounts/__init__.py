"""Users, roles, sign-in."""
