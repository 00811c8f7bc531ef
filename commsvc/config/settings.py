"""The service's settings (Config, Retention) and the error that stops a process over one."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
INSTANCE_DIR = ROOT / "instance"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the process must not start."""


# State laws stricter than the federal 8:00-21:00: Florida's, Oklahoma's and Maryland's
# mini-TCPAs allow marketing texts only 8:00-20:00 local time.
STRICTER_MARKETING_HOURS: dict[str, tuple[int, int]] = {
    "US-FL": (8, 20),
    "US-OK": (8, 20),
    "US-MD": (8, 20),
}


@dataclass(frozen=True)
class Retention:
    """How long each kind of data is kept, in seconds."""

    message_bodies: int = 90 * 86400
    metadata: int = 2 * 365 * 86400
    recordings: int = 90 * 86400
    audit: int = 7 * 365 * 86400
    closed_sessions: int = 2 * 365 * 86400


@dataclass(frozen=True)
class Config:
    env: str = "development"
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'commsvc.db'}"
    twilio_account_sid: str | None = None
    twilio_auth_token: str = ""
    public_base_url: str = "http://localhost:5000"
    default_region: str = "US"
    encryption_keys: tuple[str, ...] = ()
    hmac_key: str = ""
    session_ttl_seconds: int = 7 * 86400
    max_session_ttl_seconds: int = 366 * 86400
    cooloff_seconds: int = 30 * 86400
    call_time_limit_seconds: int = 4 * 3600
    max_body_bytes: int = 64 * 1024
    brand_name: str = "HomePros"
    support_contact: str = "support@example.com"
    help_sms_reply: str = ""  # empty: the default help text ({brand}, {support} filled in)
    no_session_sms_reply: str = (
        "This conversation has ended. Please use the app to get back in touch."
    )
    voice_only_sms_reply: str = (
        "This conversation takes calls only. Please call this number instead."
    )
    no_session_voice_message: str = (
        "This conversation has ended. Please use the app to get back in touch."
        " Goodbye."
    )
    sms_only_voice_message: str = (
        "This conversation takes text messages only. Please send a text to this number"
        " instead. Goodbye."
    )
    recording_notice: str = "This call may be recorded for quality and safety."
    # Spoken to the caller when the <Dial> found the other side busy, unanswered or failing.
    unavailable_voice_message: str = (
        "The person you are calling is not available. Please try again later. Goodbye."
    )
    marketing_requires_grant: bool = True
    quiet_hours_start: int = 8
    quiet_hours_end: int = 21
    quiet_hours_overrides: dict[str, tuple[int, int]] = field(
        default_factory=lambda: dict(STRICTER_MARKETING_HOURS))
    sender_number: str | None = None  # outbound platform texts; else a pool number per country
    outbox_max_attempts: int = 8
    outbox_backoff_base_seconds: float = 5.0
    outbox_backoff_max_seconds: float = 3600.0
    outbox_lease_seconds: int = 120
    # The most a text may go late, by purpose (docs/sending.md): "your pro is on the way" an
    # hour late misleads; a marketing text may wait out a sender queue Twilio fills for 10 h.
    outbox_transactional_max_delay_seconds: int = 3600
    outbox_marketing_max_delay_seconds: int = 86400
    retention: Retention = field(default_factory=Retention)
    log_json: bool = False
    testing: bool = False

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid)

    @property
    def startup_warnings(self) -> tuple[str, ...]:
        """Settings allowed but worth a WARNING when a process starts (once logging is set up):
        production without a Twilio account sends nothing and deletes nothing at Twilio;
        without a brand and support contact, customers read the placeholders."""
        if not self.is_production:
            return ()
        warnings = []
        if not self.twilio_enabled:
            warnings.append(
                "TWILIO_ACCOUNT_SID not set in production: every outbound text is only"
                " recorded as simulated (nothing reaches a phone), and retention and erasure"
                " mark Twilio's copies deleted ('simulated') without deleting anything there")
        placeholders = [(name, default) for name, value, default in (
            ("BRAND_NAME", self.brand_name, Config.brand_name),
            ("SUPPORT_CONTACT", self.support_contact, Config.support_contact)) if value == default]
        if placeholders:
            warnings.append(
                f"{' and '.join(name for name, _ in placeholders)} not set in production: STOP,"
                " START and HELP replies reach customers with the placeholder"
                f" ({', '.join(repr(default) for _, default in placeholders)})")
        return tuple(warnings)

    def with_overrides(self, **changes) -> Config:
        """A copy with some settings replaced (tests and tools)."""
        return replace(self, **changes)
