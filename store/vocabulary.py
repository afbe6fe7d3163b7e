"""The words the store keeps in its text columns, each listed once.

They are StrEnums, so a member equals its text (`Mode.SINGLE == "single"`), is stored and
printed as that text, and reads back from the database as a plain string that compares
equal to it. Code names a member, never the literal.
"""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """How a deployment splits traffic between champion and challenger."""

    SINGLE = "single"  # the champion answers everything
    SHADOW = "shadow"  # the champion answers; the challenger scores the same rows, unseen
    CANARY = "canary"  # a random share of requests goes to the challenger
    AB = "ab"  # a share of keys goes to the challenger, sticky per key


class Route(StrEnum):
    """Which side of a deployment answered (or scored, for shadow) a prediction."""

    CHAMPION = "champion"
    CHALLENGER = "challenger"
    SHADOW = "shadow"


class Source(StrEnum):
    """Where a prediction or a refused row came from."""

    API = "api"
    CLI = "cli"
    BATCH = "batch"


class LogMode(StrEnum):
    FULL = "full"  # inputs and outputs
    METADATA = "metadata"  # outputs only: no inputs (labels can still be scored)


class RunStatus(StrEnum):
    """A training, reproduce or batch run (the scheduler's job runs will add theirs)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    FAILED_GATE = "failed_gate"  # training only: the evaluation gate refused the model


class RunKind(StrEnum):
    TRAIN = "train"
    REPRODUCE = "reproduce"


class VersionStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class VersionSource(StrEnum):
    TRAIN = "train"
    REGISTER = "register"
    IMPORT_TRUSTED = "import-trusted"


class AliasAction(StrEnum):
    PROMOTE = "promote"
    ROLLBACK = "rollback"


class AuditAction(StrEnum):
    """Every action the audit log records, by the noun it changes."""

    MODEL_CREATE = "model.create"
    VERSION_REGISTER = "version.register"
    VERSION_ARCHIVE = "version.archive"
    ALIAS_PROMOTE = "alias.promote"
    ALIAS_ROLLBACK = "alias.rollback"
    ARTIFACT_TRUST = "artifact.trust"
    RUN_START = "run.start"
    RUN_FINISH = "run.finish"
    RUN_REPRODUCE = "run.reproduce"
    DEPLOYMENT_SET = "deployment.set"
    DEPLOYMENT_PROMOTE = "deployment.promote"
    DEPLOYMENT_ROLLBACK = "deployment.rollback"
    REFERENCE_PIN = "reference.pin"  # a version's reference profile fitted on other data


class CheckStatus(StrEnum):
    """The verdict of a stored monitoring report (drift, quality, performance)."""

    OK = "ok"
    DRIFT = "drift"  # drift reports: something drifted
    FAILED = "failed"  # quality: an error finding; performance: below training by the margin
    INSUFFICIENT = "insufficient"  # too few rows to judge: never a pass, never an alarm
    NOT_LOGGED = "not_logged"  # the deployment logs metadata only: inputs not logged


class ProfileSource(StrEnum):
    """What a reference profile was fitted on."""

    TRAINING = "training"  # the version's training data (the default reference)
    WINDOW = "window"  # a pinned time window of logged traffic
    FILE = "file"  # a data file given on the command line


class LabelTaskStatus(StrEnum):
    OPEN = "open"
    LABELLED = "labelled"
    SKIPPED = "skipped"
