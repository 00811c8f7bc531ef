"""Stub CLI module; the owning area fills it in."""
commands: list = []
