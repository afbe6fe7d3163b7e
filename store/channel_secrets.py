"""Where a channel's secrets live: a file readable by its owner only, or an environment
variable of the sending process. The store keeps only the file's path or the variable's
name; the secret is read at send time and never stored, printed or logged.

Plain file and environment reads (no SQL): the channel editor (store/channels.py) checks
them when a channel is added, the notifiers (monitoring/notifiers/) read them when they send.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

from store.errors import InvalidInput

#: permission bits a secret file must not have: readable or writable by group or others
OPEN_BITS = stat.S_IRWXG | stat.S_IRWXO


def secret_file_problem(path: str) -> str:
    """Why `path` cannot hold a secret ("" when it can): missing, not a file, not readable
    by this process, or open to the group or others (it must be 0600 or 0400)."""
    file = Path(path).expanduser()
    try:
        info = file.stat()
    except FileNotFoundError:
        return f"the secret file {file} does not exist"
    except OSError as exc:
        return f"the secret file {file} cannot be read: {exc.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return f"the secret file {file} is not a regular file"
    if info.st_mode & OPEN_BITS:
        return (f"the secret file {file} is readable by others (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); make it private with chmod 600 {file}")
    if not os.access(file, os.R_OK):
        return f"the secret file {file} is not readable by this account ({os.getuid()})"
    return ""


def read_secret_file(path: str, *, field: str) -> str:
    """The file's content without its trailing newline; InvalidInput naming `field` when
    the file cannot hold a secret (see secret_file_problem)."""
    problem = secret_file_problem(path)
    if problem:
        raise InvalidInput(problem, field=field, example="~/.config/watchkeeper/smtp (chmod 600)")
    return Path(path).expanduser().read_text(encoding="utf-8").strip()


def read_secret_env(name: str, *, field: str) -> str:
    """The value of the environment variable `name`; InvalidInput when it is unset or empty."""
    value = os.environ.get(name, "")
    if not value:
        raise InvalidInput(f"the environment variable {name} is not set in the sending process "
                           "(the scheduler daemon or the sender)", field=field,
                           example="WK_SMTP_PASSWORD")
    return value


def redact_url(url: str, *, keep_host: bool = True) -> str:
    """A URL safe to show: its scheme and host, the rest (user, token, path, query) masked,
    e.g. `https://hooks.slack.com/***`. Without `keep_host` only the scheme is left
    (`slack://***`): apprise URLs carry tokens where a host would be."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if not keep_host:
        return f"{parts.scheme}://***" if parts.scheme else "***"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    rest = "/***" if (parts.path not in ("", "/") or parts.query or parts.username) else ""
    return f"{parts.scheme}://{host}{rest}" if parts.scheme else "***"
