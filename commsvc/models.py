"""Every model, imported once so the metadata (Alembic, the registry test) sees all tables."""
import commsvc.consent.models  # noqa: F401
import commsvc.records.models  # noqa: F401
import commsvc.sending.models  # noqa: F401
from commsvc.auth.models import ApiKey  # noqa: F401
from commsvc.db.base import Base
from commsvc.pool.models import ProxyNumber  # noqa: F401
from commsvc.relay.models import Call, Message  # noqa: F401
from commsvc.sessions.models import Participant, Session  # noqa: F401

metadata = Base.metadata
