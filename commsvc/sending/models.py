"""sending models (filled in by the sending work)."""
