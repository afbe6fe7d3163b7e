"""Who is acting: the OS account of the process, never an environment variable."""

from __future__ import annotations

import os
import pwd


def current_actor() -> str:
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"
