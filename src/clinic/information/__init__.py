"""Public pages about dystonia, patient stories and news."""
