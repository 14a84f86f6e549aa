"""Queries, second-opinion requests, uploaded documents and their triage."""
