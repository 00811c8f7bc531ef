"""gunicorn's access log with the phone numbers in request lines masked (`--logger-class`)."""
from __future__ import annotations

import re

from gunicorn.glogging import Logger

from commsvc.logging_setup import mask_phones

# The atoms that carry the URL or the referer: %(r)s, %(U)s, %(q)s, %(f)s, and the same values
# reached as environ ({raw_uri}e, ...) or request header ({referer}i) atoms.
URL_ATOMS = ("r", "U", "q", "f", "{raw_uri}e", "{path_info}e", "{query_string}e",
             "{http_referer}e", "{referer}i")


def atoms_in(access_log_format: str) -> set[str]:
    """The atom names a format uses, as gunicorn looks them up ({...} names in lower case)."""
    names = re.findall(r"%\(([^)]*)\)", access_log_format)
    return {name.lower() if name.startswith("{") else name for name in names}


class MaskingLogger(Logger):
    """gunicorn's Logger; the URL atoms of each access line go through logging_setup's mask."""

    def setup(self, cfg):
        super().setup(cfg)
        # Only what the line will show is masked: with the default format, r and f.
        used = atoms_in(cfg.access_log_format)
        self.url_atoms = tuple(name for name in URL_ATOMS if name in used)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in self.url_atoms:
            value = atoms.get(name)
            if isinstance(value, str):
                atoms[name] = mask_phones(value)
        return atoms
