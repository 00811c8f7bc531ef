"""The service's settings, read once from the environment (loader.load_config).

load_config is also importable from here: operators' scripts sign webhooks with it
(docs/twilio.md)."""
from commsvc.config.loader import load_config

__all__ = ["load_config"]
