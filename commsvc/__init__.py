"""commsvc: masked SMS/voice relay with consent and records under control."""
