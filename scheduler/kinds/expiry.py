"""`expiry`: a model whose production version is older than the model's maximum age
(`wk models set MODEL --max-age-days N`) gets a retrain, as the retrain kind does it;
a younger one is left alone and the run says how old it is."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scheduler.kinds.base import JobKindSpec, Outcome, RunContext
from scheduler.kinds.retrain import SET_OPTION, SPEC_OPTION
from store.vocabulary import JobKind

if TYPE_CHECKING:
    from store.handle import Store


def production_age(store: Store, model: str, now: datetime) -> tuple[int | None, timedelta | None,
                                                                     int | None]:
    """(production's version number, its age, the model's max_age_days); None where absent."""
    from store import aliases as alias_store
    from store import models as model_store
    from store import versions as version_store
    from store.rows import id_of

    with store.db.read() as session:
        row = model_store.get_model(session, model)
        alias = alias_store.find_alias(session, id_of(row), "production")
        if alias is None:
            return None, None, row.max_age_days
        version = version_store.version_by_id(session, alias.version_id)
        return version.version, now - version.created_at, row.max_age_days


def run(ctx: RunContext) -> Outcome:
    from scheduler.kinds.retraining import retrain
    from store.errors import InvalidInput
    from store.types import utcnow

    assert ctx.model is not None  # the kind needs a model
    version, age, max_days = production_age(ctx.store, ctx.model, utcnow())
    if max_days is None:
        raise InvalidInput(
            f"model {ctx.model!r} has no maximum age, so an expiry job has nothing to check; "
            f"set one: wk models set {ctx.model} --max-age-days 30", field="max_age_days",
            example="30")
    if version is None or age is None:
        return Outcome(summary=f"{ctx.model} has no production version: nothing to expire")
    days = age.days
    if age <= timedelta(days=max_days):
        return Outcome(summary=f"v{version} is {days} days old, max {max_days}: nothing to do",
                       result={"version": version, "age_days": days, "max_age_days": max_days})
    ctx.log.info("production v%s is %s days old, past the maximum %s: retraining", version, days,
                 max_days)
    outcome = retrain(ctx, ctx.args["spec"], list(ctx.args.get("set") or []))
    outcome.summary = f"v{version} was {days} days old (max {max_days}); {outcome.summary}"
    outcome.result.update(expired_version=version, age_days=days, max_age_days=max_days)
    return outcome


KIND = JobKindSpec(
    kind=JobKind.EXPIRY,
    help="retrain the model when its production version is older than its maximum age",
    run=f"{__name__}:run",
    validate="scheduler.kinds.retrain:validate",
    needs_model=True,
    options=(SPEC_OPTION, SET_OPTION),
)
