"""Patients and, in later steps, their clinical record."""
