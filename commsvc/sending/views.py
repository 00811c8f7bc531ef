"""Stub blueprint; the owning area fills it in."""
from flask_smorest import Blueprint

blp = Blueprint("sending_views", __name__)
