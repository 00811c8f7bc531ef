"""consent models (filled in by the consent work)."""
