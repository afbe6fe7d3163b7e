"""Run `wk` commands as another OS account, many in one process: started as root, it
becomes ACCOUNT (its uid, gid and groups: the identity wk acts as is then that account's,
as for a login of it), then reads one JSON argv per line on stdin, runs it through the
CLI's own `main` (the parser, handlers, error wording and exit codes of `wk`), and answers
one JSON line {"code", "stdout", "stderr"} per command. One process per account instead
of one per command: the matrix has ~80 cells and `wk`'s start-up is most of a cell.

Usage (by tests/test_permissions.py): python tests/cli_as_account.py ACCOUNT
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pwd
import sys


def become(account: str) -> None:
    entry = pwd.getpwnam(account)
    os.setgroups(os.getgrouplist(account, entry.pw_gid))
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.umask(0o007)
    os.environ["HOME"] = f"/tmp/home-{account}"


def main() -> int:
    become(sys.argv[1])
    from console.cli import main as wk

    for line in sys.stdin:
        argv = json.loads(line)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = wk(argv)
            except SystemExit as exc:  # argparse's usage errors
                code = int(exc.code or 0)
            except Exception as exc:  # noqa: BLE001  (reported to the test, not hidden)
                code, err = 99, io.StringIO(f"{type(exc).__name__}: {exc}")
        sys.stdout.write(json.dumps({"code": code, "stdout": out.getvalue()[-2000:],
                                     "stderr": err.getvalue()[-2000:]}) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
