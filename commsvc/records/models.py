"""records models (filled in by the records work)."""
