"""How the console words a domain error: the message, then the fix as the console gives
it (the box to type in, the key to press, the `:` view to open). Never a command-line
flag or a `wk` command: those are console/cli/errors.py's words for the same error.

The domain error (store/errors.py) says what went wrong; `field` names the input
concerned and `see` the place to look the right value up. A field or a place the
console has no box or view for gets no hint rather than a CLI one.
"""

from __future__ import annotations

from store.errors import Listing, See, WatchkeeperError

#: the fix for a wrong or missing input, by the domain's field name, where the console
#: asks for that input itself (the confirmation's boxes)
FIX_OF_FIELD = {
    "reason": "type a reason in the box",
    "alias": "type the alias in the box, e.g. production or staging",
    "share": "type the share in the box, e.g. 25% or 0.25",
}

#: where to look, as a `:` view ({0}: the first argument, MODEL when there is none)
VIEW_OF_LISTING = {
    Listing.MODELS: ":models",
    Listing.MODEL: ":versions {0}",
    Listing.VERSIONS: ":versions {0}",
    Listing.RUNS: ":runs {0}",
    Listing.DATASETS: ":datasets",
    Listing.PREDICTIONS: ":predictions",
    Listing.DEPLOYMENT: ":deployments",
    Listing.REPORTS: ":drift {0}",
    Listing.APPROVALS: ":approvals {0}",
    Listing.JOBS: ":jobs",
    # no console view: batch runs, quarantined rows, creating a store
}


def view(where: See) -> str | None:
    """The `:` command that shows `where`, or None if the console has no view for it."""
    template = VIEW_OF_LISTING.get(where.listing)
    if template is None:
        return None
    if where.listing is Listing.PREDICTIONS and where.args:
        return f":predictions request={where.args[0]}"
    if "{0}" in template and not where.args:
        return template.replace(" {0}", " MODEL")
    return template.format(*where.args)


def text(exc: WatchkeeperError) -> str:
    """The message with the fix in console terms."""
    parts = [exc.message]
    if exc.field is not None and exc.field in FIX_OF_FIELD:
        parts.append(FIX_OF_FIELD[exc.field])
    if exc.see is not None and (where := view(exc.see)) is not None:
        parts.append(f"see {where}")
    return "; ".join(parts)


def error_text(exc: BaseException | None) -> str:
    """What to tell the console user: a domain error in console terms, else the
    exception's own message, else its type and text."""
    if isinstance(exc, WatchkeeperError) and exc.message:
        return text(exc)
    return getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
