"""Working patterns, rooms and equipment, slots computed from them, and appointments."""
