"""Stub: the Twilio edge (signature -> form -> one service call -> TwiML)."""
from flask import Blueprint

bp = Blueprint("twilio_webhooks", __name__, url_prefix="/webhooks/twilio")
