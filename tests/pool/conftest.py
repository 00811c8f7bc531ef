"""Pool tests reuse the session helpers (pool numbers, a booking key, a create call)."""
from tests.sessions.conftest import add_numbers, booking, create  # noqa: F401
