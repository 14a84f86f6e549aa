"""The clinical core of Dystonia Clinic: pure, typed, deterministic Python with no Django.

Every public function takes plain values or frozen dataclasses and returns them; bad input
raises :class:`dystonia.errors.InvalidInput`.
"""

__version__ = "0.1.0"
