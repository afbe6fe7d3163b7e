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
    LABEL_QUEUE_FILL = "label.queue"  # a sample of predictions offered for labelling
    LABEL_SET = "label.set"  # a person labelled a queued prediction
    LABEL_SKIP = "label.skip"  # a person skipped one
    LABEL_FEEDBACK = "label.feedback"  # labels by prediction or request id (CLI, API, file)
    MODEL_SET = "model.set"  # criticality, promotion policy, maximum age
    JOB_ADD = "job.add"
    JOB_EDIT = "job.edit"
    JOB_PAUSE = "job.pause"
    JOB_RESUME = "job.resume"
    JOB_REMOVE = "job.remove"
    JOB_RUN_NOW = "job.run_now"
    SCHEDULER_CATCH_UP = "scheduler.catch_up"  # what was missed while the daemon was down
    APPROVAL_REQUEST = "version.approval_request"  # a retrained version waits for a person
    VERSION_APPROVE = "version.approve"
    VERSION_REJECT = "version.reject"
    STORE_BACKUP = "store.backup"
    STORE_GROUP = "store.group"  # the store's files opened to an OS group (init with a group)
    STORE_VACUUM = "store.vacuum"
    STORE_PRUNE = "store.prune"
    ALERT_ACK = "alert.ack"
    ALERT_UNACK = "alert.unack"
    ALERT_RESOLVE = "alert.resolve"  # by hand, with a note
    ALERT_ACTION = "alert.action"  # an action taken from an alert (rollback, pause, retrain)
    SILENCE_ADD = "silence.add"
    SILENCE_END = "silence.end"
    RULE_ADD = "alert_rule.add"
    RULE_EDIT = "alert_rule.edit"
    RULE_REMOVE = "alert_rule.remove"
    CHANNEL_ADD = "channel.add"
    CHANNEL_REMOVE = "channel.remove"
    CHANNEL_DISABLE = "channel.disable"  # nothing new queued to it, its queue held
    CHANNEL_ENABLE = "channel.enable"
    CANARY_START = "canary.start"  # promotion policy auto put a version on a canary share
    CANARY_PROMOTE = "canary.promote"  # no alert fired in its period: it became production
    CANARY_ROLLBACK = "canary.rollback"  # an alert fired on it: taken off at once
    ACCESS_DENIED = "access.denied"  # an action refused for want of a role (its own transaction)
    USER_ADD = "user.add"
    USER_SET_ROLE = "user.set_role"
    USER_REMOVE = "user.remove"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    MODEL_TRANSFER = "model.transfer"  # a new owner (and team), with a reason
    EXPLANATION_STORE = "prediction.explain"  # an explanation kept with its prediction
    GUARDRAIL_SET = "deployment.guardrails"


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


class JobKind(StrEnum):
    """What a scheduled job does (scheduler/kinds/ has one module per kind)."""

    RETRAIN = "retrain"  # a training spec, with its gate and data expectations
    SCORE = "score"  # batch scoring from a source to a sink
    DRIFT = "drift"  # the monitoring checks, storing their reports
    QUALITY = "quality"
    PERFORMANCE = "performance"
    PRUNE = "prune"  # drop logged predictions and quarantine rows older than N days
    EXPIRY = "expiry"  # a model older than its maximum age gets a retrain
    BACKUP = "backup"  # a consistent copy of the store
    PROBE = "probe"  # ask a server's /readyz and record the answer
    ON_COMMIT = "on-commit"  # retrain when a branch of a local git repository moves
    COMMAND = "command"  # a command of the user's (argv), run as a job
    ALERTS = "alerts"  # one evaluation pass over the alert rules


class JobRunStatus(StrEnum):
    """A scheduled job's run: queued -> running -> one of the final states."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"  # killed past its timeout or its total deadline
    SKIPPED = "skipped"  # not run: the previous run of the job was still running
    ABANDONED = "abandoned"  # its process (or the daemon) was gone before it ended
    MISSED = "missed"  # a slot that passed while the daemon was down (or too late to run)


#: The states a job run never leaves.
JOB_RUN_FINAL = frozenset({JobRunStatus.SUCCEEDED, JobRunStatus.FAILED, JobRunStatus.TIMED_OUT,
                           JobRunStatus.SKIPPED, JobRunStatus.ABANDONED, JobRunStatus.MISSED})


class JobTrigger(StrEnum):
    """Why a job run exists."""

    SCHEDULE = "schedule"  # its slot in the timetable came
    CATCH_UP = "catch-up"  # a slot missed while the daemon was down, run by its policy
    RUN_NOW = "run-now"  # someone asked (CLI or console)
    AFTER = "after"  # the job it follows succeeded
    RETRY = "retry"  # a failed attempt is tried again


class CatchUp(StrEnum):
    """What a job does about slots missed while the daemon was down."""

    SKIP = "skip"  # record them as missed, run none
    LATEST = "latest"  # record them, run once for the latest
    ALL = "all"  # run each, up to the job's catch_up_limit, oldest first


class Criticality(StrEnum):
    """How a team classifies a model; sets its default promotion policy."""

    MISSION_CRITICAL = "mission-critical"
    INTERNAL = "internal"


class PromotionPolicy(StrEnum):
    """What happens to a version a scheduled retrain registered after its gate passed."""

    MANUAL = "manual"  # pending approval with a report; a person approves or rejects
    STAGING = "staging"  # it becomes the `staging` alias
    AUTO = "auto"  # a canary share for a set period, then production unless an alert fired


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a newer version of the model asked for approval


class AlertKind(StrEnum):
    """What an alert rule watches."""

    DRIFT = "drift"  # a drift report: one feature (or any), or the whole input
    QUALITY = "quality"  # a data quality report failed
    PERFORMANCE = "performance"  # realised metric below training by a margin
    PERFORMANCE_ESTIMATED = "performance-estimated"  # the label-free estimate, same test
    LATENCY = "latency"  # p95 latency from the rollups above a bound
    ERROR_RATE = "error-rate"  # errors / requests from the rollups above a bound
    TRAFFIC = "traffic"  # requests stopped, or fell by a factor against the day before
    MODEL_AGE = "model-age"  # the production version is older than the model's maximum age
    JOB_FAILED = "job-failed"  # a job's run failed, or its retries are exhausted
    HEARTBEAT = "heartbeat"  # the scheduler daemon's heartbeat is missing
    PROBE = "probe"  # a server's /readyz uptime below a bound
    DISK = "disk"  # free space of the store's file system below a bound
    SERVER_MEMORY = "server-memory"  # a server's resident memory above a bound
    SERVER_CPU = "server-cpu"  # a server's CPU share above a bound
    RATE_LIMITED = "rate-limited"  # an API token keeps hitting its rate limit
    GUARDRAIL = "guardrail"  # answers flagged by the deployment's guardrails above a count or share


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class AlertState(StrEnum):
    """An alert's life. `insufficient data` is a rule state (AlertRuleState.condition),
    never an alert: it is shown and never notified as firing."""

    PENDING = "pending"  # the condition holds, not yet for N of the last M evaluations
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"  # a person has it, until ack_until
    SILENCED = "silenced"  # a silence matches it: no notifications
    RESOLVED = "resolved"  # cleared by itself (hysteresis) or by hand with a note


ALERT_OPEN_STATES = (AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED,
                     AlertState.SILENCED)


class Condition(StrEnum):
    """What one evaluation of a rule said about one target."""

    HOLDS = "holds"
    CLEAR = "clear"
    INSUFFICIENT = "insufficient"  # too little data to say: never fires, never resolves


class AlertEventKind(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    REPEAT = "repeat"  # still firing, notified again after the repeat interval
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"
    ACK_EXPIRED = "ack-expired"  # the acknowledgement ran out while it still fired
    SILENCED = "silenced"
    UNSILENCED = "unsilenced"
    RESOLVED = "resolved"
    ANNOTATED = "annotated"  # a note, or an action taken from it
    NOTIFIED = "notified"  # outbox rows were queued for it


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"  # POST of an Alertmanager v4 JSON message (plus Slack's `text`)
    SMTP = "smtp"  # email, STARTTLS
    SHELL = "shell"  # a command, the alert's fields in environment variables
    APPRISE = "apprise"  # an apprise URL: Slack, Teams, Discord, PagerDuty, ntfy, Matrix ...


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    DELIVERED = "delivered"
    FAILED = "failed"  # given up: a 4xx answer, or out of attempts


class CanaryWatchStatus(StrEnum):
    WATCHING = "watching"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"  # someone changed the deployment by hand meanwhile


class Role(StrEnum):
    """What a user or token may do (store/roles.py holds the table)."""

    VIEWER = "viewer"  # read
    SCIENTIST = "scientist"  # train, register, propose, request approval, label
    OPERATOR = "operator"  # deploy, promote, roll back, approve, alerts, jobs
    ADMIN = "admin"  # everything, and users, tokens, channels, rules, retention


class ApprovalBy(StrEnum):
    """Whose approval a model's production changes need (`registered_model.approval_by`)."""

    NONE = ""  # the role table alone decides
    OWNER = "owner"  # the model's owner (or an admin) approves
    OPERATOR = "operator"  # an operator (or an admin) approves
