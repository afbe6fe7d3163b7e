"""Where a channel's secrets live: a file readable by its owner only, or an environment
variable of the sending process. The store keeps only the file's path or the variable's
name; the secret is read at send time and never stored, printed or logged.

Plain file and environment reads (no SQL): the channel editor (store/channels.py) checks
them when a channel is added, the notifiers (monitoring/notifiers/) read them when they send.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

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


#: Parts of a URL shorter than this are not taken for secrets when scrubbing text
#: ("services", a port or "v1" would otherwise be masked everywhere).
SECRET_MIN_CHARS = 6


def url_secrets(url: str) -> list[str]:
    """The parts of `url` that may be secrets, longest first: its password and user, its
    path and query as a whole, each path segment and query value (Slack's and Teams'
    webhook URLs carry their token in the path, others in `?token=`)."""
    from urllib.parse import parse_qsl

    try:
        parts = urlsplit(url)
    except ValueError:
        return [url] if url else []
    found = {url, parts.password or "", parts.username or "", parts.path, parts.query,
             f"{parts.path}?{parts.query}" if parts.query else ""}
    found.update(segment for segment in parts.path.split("/"))
    found.update(value for _key, value in parse_qsl(parts.query, keep_blank_values=True))
    found.update(parts.netloc.split("@")[:-1])  # user:password as written
    return sorted((s for s in found if len(s) >= SECRET_MIN_CHARS and s != parts.hostname),
                  key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every occurrence of each secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
            quoted = quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, "***")
    return text


class ScrubFilter(logging.Filter):
    """A logging filter that masks `secrets` in every record it passes (used around a
    library that logs the URL it was given, e.g. apprise at debug level)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            shown = scrub(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info, record.exc_text = None, shown
        return True


@contextmanager
def scrubbed_logs(logger_name: str, secrets: list[str]) -> Iterator[None]:
    """Mask `secrets` in what `logger_name` (and its children) log meanwhile."""
    filter_ = ScrubFilter(secrets)
    root = logging.getLogger(logger_name)
    loggers = [root, *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                       if name.startswith(logger_name + "."))]
    for one in loggers:
        one.addFilter(filter_)
    try:
        yield
    finally:
        for one in loggers:
            one.removeFilter(filter_)
