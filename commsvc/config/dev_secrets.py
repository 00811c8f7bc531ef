"""The development secrets under instance/ (never used in production): made once, readable by
their owner only, shared by every process started beside each other."""
from __future__ import annotations

import errno
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet

from commsvc.config.settings import INSTANCE_DIR, ConfigError

DEV_SECRETS_FILE = INSTANCE_DIR / "dev-secrets.json"


# What link() answers on a filesystem without hard links (FAT and exFAT, some network and FUSE
# mounts); a FileExistsError is a file another process made.
_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS)


def _create_once(path: Path, content: str) -> bool:
    """Create the file, readable by its owner only, with its whole content at once: False,
    and nothing changed, when it exists already (another process got there first)."""
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(content)
        os.link(draft, path)  # unlike a rename, never replaces a file another process made
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # Still only if absent, in one write; a process starting in the same instant could
        # read it before that write ends, a moment hard links leave out.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as file:
            file.write(content)
        return True
    finally:
        os.unlink(draft)


DEV_SECRETS = ("encryption_key", "hmac_key", "twilio_auth_token")


def _read_secrets(its_key_used: bool) -> dict:
    """The development secrets file's content: a ConfigError that names it when it is not what
    dev_secrets writes (empty or cut short by a process stopped while writing it, as the
    earlier write_text could leave it, or edited), where json's or a KeyError's traceback
    stopped every process. `its_key_used`: ENCRYPTION_KEYS is unset, so its encryption_key
    must be a Fernet key (else the error named ENCRYPTION_KEYS, a variable not set)."""
    try:
        text = DEV_SECRETS_FILE.read_text()
    except OSError as exc:
        # Another user's file (mode 0600): dev_secrets' "make instance/ writable" did not help.
        raise ConfigError(
            f"the development secrets file {DEV_SECRETS_FILE} cannot be read ({exc.strerror}):"
            f" make it readable by this user (it is the user's who first ran commsvc here), or"
            f" set ENCRYPTION_KEYS, HMAC_KEY and TWILIO_AUTH_TOKEN") from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not (isinstance(data, dict)
            and all(isinstance(data.get(name), str) and data[name] for name in DEV_SECRETS)):
        problem = "empty" if not text.strip() else "not JSON with " + ", ".join(DEV_SECRETS)
    elif its_key_used and not _is_fernet_key(data["encryption_key"]):
        problem = "its encryption_key is not a Fernet key"
    else:
        return data
    raise ConfigError(
        f"the development secrets file {DEV_SECRETS_FILE} is not the one commsvc writes"
        f" ({problem}): delete it to have new secrets generated (what its encryption key"
        f" encrypted becomes unreadable), or set ENCRYPTION_KEYS, HMAC_KEY and"
        f" TWILIO_AUTH_TOKEN")


def _is_fernet_key(key: str) -> bool:
    try:
        Fernet(key)
        return True
    except ValueError:
        return False


def dev_secrets(from_env: list[str]) -> dict:
    """Load or create the development secrets under instance/ (never used in production);
    `from_env`: the settings the environment gives, which win over the file's."""
    try:
        if DEV_SECRETS_FILE.exists():
            return _read_secrets("ENCRYPTION_KEYS" not in from_env)
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        data = {
            "encryption_key": Fernet.generate_key().decode(),
            "hmac_key": secrets.token_urlsafe(32),
            "twilio_auth_token": secrets.token_hex(16),
        }
        if not _create_once(DEV_SECRETS_FILE, json.dumps(data, indent=2)):
            # Another process starting beside this one (a Procfile runner starts web, worker
            # and clock together) wrote them first: all must encrypt, hash and check webhook
            # signatures with the same secrets.
            return _read_secrets("ENCRYPTION_KEYS" not in from_env)
    except OSError as exc:
        # A clone whose instance/ is read-only (or owned by another user) stopped every
        # process with a traceback: the operator's to fix, so one line that says how.
        raise ConfigError(
            f"the development secrets file {DEV_SECRETS_FILE} cannot be read or written"
            f" ({exc.strerror}): make {INSTANCE_DIR} writable, or set ENCRYPTION_KEYS,"
            f" HMAC_KEY and TWILIO_AUTH_TOKEN") from None
    # Which of the file's secrets are in use: an operator signs hand-made webhooks with the
    # token this names, and the file's token gets 403 when TWILIO_AUTH_TOKEN is set.
    used = [label for label, setting in (("encryption key", "ENCRYPTION_KEYS"),
                                         ("HMAC key", "HMAC_KEY"),
                                         ("webhook auth token", "TWILIO_AUTH_TOKEN"))
            if setting not in from_env]
    print(f"commsvc: generated development secrets ({', '.join(used)}) in {DEV_SECRETS_FILE}"
          + (f"; {', '.join(from_env)} from the environment" if from_env else ""),
          file=sys.stderr)
    return data
