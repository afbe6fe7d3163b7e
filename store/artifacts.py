"""The artifact folder: model files named by their sha256, written and read with skops.

- Loading never runs code from the file: skops refuses any type outside the allow-list,
  and the allow-list lives here, in code, never beside the artifact (reliability.md §3).
- The hash is checked on every load against the one the registry recorded.
- Publishing is atomic: temp file, fsync, rename, fsync of the folder; only then does
  the caller commit the registry row, so the registry never points at a partial file.
- Every path is resolved inside the folder; a name that is not a sha256 is refused.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.errors import IntegrityError, InvalidInput, NotFound, Refused

SKOPS_SUFFIX = ".skops"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

#: Types skops does not trust by default that Watchkeeper accepts, each for a reason.
#: Tree and TreePredictor carry raw node indices (skops 0.16: a malicious file can read
#: out of bounds on predict); they are needed for forests and gradient boosting, and
#: every file's hash is checked against the registry before it is loaded. Nothing else:
#: numpy.dtype (needed only by SimpleImputer) is left out; tests pin this list (ART-02).
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


@dataclass(frozen=True)
class StoredArtifact:
    sha256: str
    size: int
    format: str = "skops"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def untrusted_types_in(data: bytes) -> list[str]:
    """The types a skops file names that the allow-list does not cover."""
    import skops.io as sio

    return sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))


def load_safe_format() -> None:
    """Import skops, the safe-format machinery, first thing in a command that will load or
    save a model. Its import builds the default trusted-type lists by looking each scipy
    and numpy ufunc up in every module imported so far, in import order: imported before
    SQLAlchemy, pydantic, pandas and FastAPI (whose lazy module attributes make each
    lookup slow), the scan meets scipy's modules early (0.8-1.0 s where it took 1.8-1.9 s
    on a 2-core machine, measured). Python imports it once; the allow-list and the checks
    on every load are unchanged."""
    import skops.io  # noqa: F401


def dumps_estimator(estimator: Any) -> bytes:
    """Serialise with skops; refuse an estimator that would need unsafe types to load."""
    import skops.io as sio

    try:
        data = sio.dumps(estimator)
    except Exception as exc:  # skops raises TypeError and others for unsupported objects
        raise InvalidInput(
            f"the model of type {type(estimator).__name__} cannot be saved as a skops file: "
            f"{exc}; use standard scikit-learn components"
        ) from exc
    extra = untrusted_types_in(data)
    if extra:
        raise Refused(
            f"the model of type {type(estimator).__name__} uses types that are not on "
            f"Watchkeeper's allow-list: {', '.join(extra)}; loading them could run code. "
            "Build the model from standard scikit-learn components"
        )
    return data


def loads_estimator(data: bytes) -> Any:
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return sio.loads(data, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        raise Refused(
            f"the model file names types outside the allow-list ({exc}); it was not loaded"
        ) from exc


class ArtifactStore:
    """Content-addressed model files under one root folder."""

    def __init__(self, root: Path, file_mode: int = 0o600) -> None:
        self.root = root
        #: mkstemp makes 0600 files whatever the umask: the store's mode is set on each
        self.file_mode = file_mode

    def path_for(self, sha256: str) -> Path:
        """The file's path in the folder. The name is not resolved through a symbolic
        link, so that read_verified can refuse one planted under a valid name."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise InvalidInput(
                f"artifact name {sha256!r} is not a sha256 hex digest (64 characters 0-9a-f)"
            )
        root = self.root.resolve()
        path = root / f"{sha256}{SKOPS_SUFFIX}"
        if not path.resolve().is_relative_to(root):
            raise Refused(f"artifact path {path} resolves outside the artifact folder {self.root}")
        return path

    def put_bytes(self, data: bytes) -> StoredArtifact:
        """Publish a file atomically; an existing identical file is reused."""
        sha = sha256_bytes(data)
        target = self.path_for(sha)
        try:
            existing = os.lstat(target)
        except FileNotFoundError:
            existing = None
        # Reuse only a regular file with the right content (never read through a link,
        # never open a FIFO); anything else under the name is replaced by the rename.
        if existing and stat.S_ISREG(existing.st_mode) and sha256_file(target) == sha:
            return StoredArtifact(sha256=sha, size=len(data))
        self.root.mkdir(parents=True, exist_ok=True, mode=0o770 if self.file_mode & 0o060 else 0o700)
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", suffix=SKOPS_SUFFIX, dir=self.root)
        try:
            with os.fdopen(fd, "wb") as fh:
                if self.file_mode != 0o600:
                    os.fchmod(fh.fileno(), self.file_mode)
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return StoredArtifact(sha256=sha, size=len(data))

    def put_estimator(self, estimator: Any) -> StoredArtifact:
        return self.put_bytes(dumps_estimator(estimator))

    def read_verified(self, sha256: str) -> bytes:
        """The file's bytes, after checking they hash to the recorded sha256."""
        path = self.path_for(sha256)
        data = _read_regular_file(path)
        actual = sha256_bytes(data)
        if actual != sha256:
            raise IntegrityError(
                f"artifact {path.name} failed its integrity check: expected sha256 {sha256}, "
                f"actual {actual}; the file was changed after it was registered. It was not "
                "loaded: restore the file from a backup or register the model again"
            )
        return data

    def load(self, sha256: str) -> Any:
        return loads_estimator(self.read_verified(sha256))

    def stats(self) -> tuple[int, int]:
        files = [p for p in self.root.glob(f"*{SKOPS_SUFFIX}") if not p.name.startswith(".")]
        return len(files), sum(p.stat().st_size for p in files)


def _read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file, refusing a symbolic link (O_NOFOLLOW, so no race
    between a check and the open) and anything else that is not a plain file (a FIFO
    would block the reader forever, a device could be anything)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise NotFound(
            f"artifact file {path} is missing; restore it from a backup of the store"
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise Refused(
                f"artifact {path} is a symbolic link; model files must be regular files"
            ) from exc
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Refused(f"artifact {path} is not a regular file; it was not read")
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def load_untrusted_pickle(path: Path) -> Any:
    """Unpickle a file the user has explicitly trusted (``--trust``); this runs its code.

    The only place in Watchkeeper that unpickles; callers record the trust in the audit
    log first, and the model is converted to a skops file right after.
    """
    import joblib

    return joblib.load(path)  # noqa: S301  (explicitly trusted by the user, audited)


def looks_like_skops(data: bytes) -> bool:
    return data[:2] == b"PK"  # skops files are zip archives


def read_model_file(path: Path, trust: bool) -> tuple[Any, str]:
    """A model from a file: skops is loaded safely; pickle/joblib only with trust.

    Returns (estimator, how) where how is "skops" or "pickle-trusted".
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound(f"model file {path} does not exist; check the path") from exc
    except OSError as exc:
        raise InvalidInput(f"model file {path} cannot be read: {exc.strerror}") from exc
    if looks_like_skops(data):
        try:
            return loads_estimator(data), "skops"
        except Refused:
            raise
        except Exception as exc:
            raise InvalidInput(f"model file {path} is not a valid skops file: {exc}") from exc
    if not trust:
        raise Refused(
            f"model file {path} is not a skops file (it looks like a pickle/joblib file); "
            "loading a pickle runs any code inside it, so it was not opened. If you trust "
            "who made it, import it as trusted (recorded in the audit log), or save the model "
            "with skops.io.dump",
            field="trust",
        )
    try:
        return load_untrusted_pickle(path), "pickle-trusted"
    except Exception as exc:
        raise InvalidInput(f"model file {path} could not be unpickled: {exc}") from exc


__all__ = ["ArtifactStore", "StoredArtifact", "TRUSTED_TYPES", "io"]
