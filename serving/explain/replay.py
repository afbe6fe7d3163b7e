"""`explain_prediction`: replay a logged prediction through the exact version that
answered and say what each input feature contributed.

- The version's artifact is read by the sha256 the registry recorded and checked against
  it (store.artifacts via serving.scoring.model_cache.load_version): a file changed since
  it was registered is refused with the integrity error, never explained.
- The logged inputs go through the same signature check and scoring path as serving, and
  the answer is compared with the logged output, value for value as stored in JSON (the
  class and probabilities of a classifier, the value of a regressor).
- The baseline is the version's reference profile sample (its training data unless a
  reference was pinned): a linear model is explained exactly in its decision space
  (log-odds for a logistic regression), anything else by interventional Shapley values
  over its input features (serving.explain.contributions).
- Kept in prediction_explanation when asked, or when the model's owner asked for every
  explanation to be kept: a change, so checked (Permission.CHECK) and audited.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from serving.explain import contributions as math_
from serving.explain.features import LinearModel, linear_model
from serving.scoring.model_cache import LoadedVersion, ScoringError, VersionInfo, load_version
from store import audit
from store import deployments as deployments_q
from store import explanations as explanations_q
from store import profiles as profile_store
from store.access import authorize, check, resolve
from store.errors import Conflict, Listing, NotFound, see
from store.roles import Permission
from store.tables import RegisteredModel
from store.vocabulary import AuditAction, LogMode

if TYPE_CHECKING:
    from store.handle import Store

log = logging.getLogger(__name__)

#: The seed of the background subsample and of permutation sampling (same answer each run).
SEED = 0


@dataclass(frozen=True)
class _Subject:
    prediction: dict[str, Any]
    info: VersionInfo
    store_explanations: bool
    log_mode: str | None
    sample_rate: float | None
    profile: dict[str, Any] | None


def _subject(store: Store, ref: str) -> _Subject:
    from serving.log import reading

    p = reading.show_prediction(store, ref)
    with store.db.read() as session:
        version_id = explanations_q.prediction_version_id(session, p["prediction_id"])
        if version_id is None:  # deleted between the two reads
            raise NotFound(f"no prediction {p['prediction_id']!r} in the log", see=see(Listing.PREDICTIONS))
        (details,) = deployments_q.version_details(session, [version_id])
        info = VersionInfo(*details)
        model = session.get(RegisteredModel, info.model_id)
        dep = deployments_q.find_deployment(session, info.model_id)
        profile = profile_store.latest_profile(session, version_id)
    return _Subject(p, info, bool(model and model.store_explanations),
                    dep.log_mode if dep else None, dep.input_sample_rate if dep else None, profile)


def _no_inputs(s: _Subject) -> NotFound:
    pid, model = s.prediction["prediction_id"], s.info.model
    if s.log_mode == LogMode.METADATA:
        why = (f"the deployment of {model} logs metadata only (outputs, no inputs), so there is "
               "nothing to replay")
        fix = "set the deployment's log mode to full: predictions logged from then on can be explained"
    elif s.sample_rate is not None and s.sample_rate < 1.0:
        why = (f"the deployment of {model} keeps the inputs of a share {s.sample_rate:g} of "
               "predictions, and this one's were not kept")
        fix = "raise the deployment's input sample rate to 1 to make every later prediction explainable"
    else:
        why = "its inputs were not logged (the deployment logged metadata only or sampled its inputs then)"
        fix = "predictions logged in full mode with an input sample rate of 1 can be explained"
    return NotFound(f"prediction {pid} of {model} v{s.info.version} cannot be explained: no inputs "
                    f"logged: {why}. {fix[0].upper()}{fix[1:]}", see=see(Listing.DEPLOYMENT, model))


#: A request of at most this many rows is replayed whole when the row alone differs.
REQUEST_ROWS = 1000
#: BLAS computes a matrix product in blocks of rows: rows in a full block round alike
#: whatever the batch, the rest (the last rows of a batch, a row alone) may differ in
#: the last bit. A block of copies of the row reproduces a row scored inside a batch.
BLOCK = 4


def _predict_one(loaded: LoadedVersion, values: list[list[Any]], index: int) -> dict[str, Any] | None:
    try:
        outputs, _scores = loaded.predict(values)
    except ScoringError as exc:
        raise Conflict(f"{loaded.model} v{loaded.version} refused the logged inputs on replay: {exc}") from exc
    return outputs[index]


def _request_values(store: Store, loaded: LoadedVersion, prediction_id: str) -> tuple[list[list[Any]], int] | None:
    """The inputs of the request the prediction was answered in, checked, and its place."""
    import orjson

    with store.db.read() as session:
        rows = explanations_q.request_inputs(session, prediction_id, REQUEST_ROWS)
    values: list[list[Any]] = []
    place = None
    for i, (pid, _row_index, text) in enumerate(rows):
        checked, errors = loaded.schema.check_row(orjson.loads(text), i) if text else (None, [])
        if checked is None or errors:
            return None  # a row whose inputs were not kept: the request cannot be rebuilt
        values.append(checked)
        place = i if pid == prediction_id else place
    return (values, place) if place is not None and len(values) > 1 else None


def _replay(store: Store, loaded: LoadedVersion, p: dict[str, Any],
            x: list[Any]) -> tuple[dict[str, Any], str, bool]:
    """The replayed output, how it was scored, and whether it equals the logged one: the
    row alone, else within its logged request, else inside a block of copies."""
    logged = p["outputs"]
    first = _predict_one(loaded, [x], 0)
    if first is not None and first == logged:
        return first, "alone", True
    request = _request_values(store, loaded, p["prediction_id"])
    if request is not None:
        again = _predict_one(loaded, *request)
        if again is not None and again == logged:
            return again, f"with the {len(request[0])} rows of its request", True
    block = _predict_one(loaded, [x] * BLOCK, 0)
    if block is not None and block == logged:
        return block, f"in a batch of {BLOCK} copies (as rows inside a batch are scored)", True
    if first is None:
        raise Conflict(f"{loaded.model} v{loaded.version} gave no finite output for the logged inputs")
    return first, "alone", False


def _compared(output: dict[str, Any]) -> str:
    if "probabilities" in output:
        return "class and probabilities"
    return "value" if "value" in output else "class"


def _background(loaded: LoadedVersion, s: _Subject) -> tuple[list[list[Any]], dict[str, Any]]:
    """The reference rows, checked as serving checks inputs, and where they come from."""
    if s.profile is None or not (s.profile.get("profile") or {}).get("sample", {}).get("rows"):
        raise NotFound(f"{s.info.model} v{s.info.version} has no reference profile with a sample, so "
                       "there is no baseline to explain a prediction against; fit a reference profile "
                       "for the version (its training data)", see=see(Listing.VERSIONS, s.info.model))
    sample = s.profile["profile"]["sample"]
    position = {str(n): i for i, n in enumerate(sample["columns"])}
    missing = [n for n in loaded.schema.names if n not in position]
    if missing:
        raise NotFound(f"the reference profile of {s.info.model} v{s.info.version} has no column "
                       f"{', '.join(missing)}; fit one on data with the version's inputs",
                       see=see(Listing.VERSIONS, s.info.model))
    rows = []
    for i, raw in enumerate(sample["rows"]):
        checked, errors = loaded.schema.check_row({n: raw[position[n]] for n in loaded.schema.names}, i)
        if checked is not None and not errors:
            rows.append(checked)
    if not rows:
        raise NotFound(f"no row of the reference sample of {s.info.model} v{s.info.version} passes the "
                       "version's input checks; fit a reference profile on its training data")
    where = {"profile_id": s.profile["id"], "source": s.profile["source"], "rows": len(rows),
             "what": f"the version's reference profile sample ({s.profile['source']} data)"}
    return rows, where


def _explain_linear(lm: LinearModel, loaded: LoadedVersion, x: list[Any],
                    background: list[list[Any]]) -> math_.Contributions:
    features = list(loaded.schema.names)
    x_in = loaded.make_input([x])
    if lm.space == "log-odds":
        output = float(np.asarray(loaded.estimator.decision_function(x_in), dtype=float).ravel()[0])
    else:
        output = float(np.asarray(loaded.estimator.predict(x_in), dtype=float).ravel()[0])
    return math_.linear(lm.coef, lm.intercept, lm.transform(x_in)[0],
                        lm.transform(loaded.make_input(background)), lm.owners, features,
                        output=output)


def _target(loaded: LoadedVersion, replayed: dict[str, Any]) -> tuple[str, Any, float]:
    """What the Shapley values explain: (its words, the function of a model input, f(x))."""
    est = loaded.estimator
    if loaded.classes is None:
        return ("value", lambda X: np.asarray(est.predict(X), dtype=float).ravel(), float(replayed["value"]))
    if loaded.has_proba:
        k = 1 if len(loaded.classes) == 2 else loaded.classes.index(replayed["class"])
        label = loaded.classes[k]
        return (f"probability of class {label}", lambda X: np.asarray(est.predict_proba(X))[:, k],
                float(replayed["probabilities"][str(label)]))
    label = replayed["class"]
    return (f"class {label} predicted (1) or not (0)",
            lambda X: (np.asarray(est.predict(X)) == label).astype(float), 1.0)


def _explain_shapley(loaded: LoadedVersion, replayed: dict[str, Any], x: list[Any],
                     background: list[list[Any]]) -> tuple[math_.Contributions, str, int]:
    n = len(x)
    space, f, output = _target(loaded, replayed)
    keep = math_.background_size(n, len(background)) if n <= math_.EXACT_MAX_FEATURES else \
        max(1, min(len(background), math_.ROW_BUDGET // (math_.PERMUTATIONS * max(n - 1, 1))))
    if keep < len(background):
        rng = np.random.default_rng(SEED)
        background = [background[i] for i in np.sort(rng.choice(len(background), keep, replace=False))]
    xs = np.empty(n, dtype=object)
    xs[:] = x
    bg = np.empty((len(background), n), dtype=object)
    bg[:] = background

    def value_of(masks: np.ndarray) -> np.ndarray:
        rows = np.where(masks[:, None, :], xs[None, None, :], bg[None, :, :]).reshape(-1, n)
        answers = f(loaded.make_input(rows.tolist()))
        return np.asarray(answers, dtype=float).reshape(len(masks), len(background)).mean(axis=1)

    return math_.shapley(list(loaded.schema.names), value_of, output, seed=SEED), space, len(background)


def explain_prediction(store: Store, ref: str, *, store_result: bool = False,
                       actor: str | None = None) -> dict[str, Any]:
    """Replay prediction `ref` (an id or a unique prefix) and explain it; see the module doc."""
    s = _subject(store, ref)
    authorize(store, actor, Permission.READ, model=s.info.model)  # a read: nothing audited
    p = s.prediction
    if p["inputs"] is None:
        raise _no_inputs(s)
    if p["outputs"] is None:
        raise NotFound(f"prediction {p['prediction_id']} has no logged output to compare a replay with")
    loaded = load_version(store, s.info)  # the artifact's sha256 is checked on this read
    from threadpoolctl import threadpool_limits

    # One OpenMP thread (tree ensembles predict each row alone, so the answers are the
    # same): on a shared 2-core machine the second thread's spin-waits made the
    # enumeration's predict calls 20 times slower (measured).
    with threadpool_limits(limits=1, user_api="openmp"):
        return _explained(store, s, p, loaded, store_result, actor)


def _explained(store: Store, s: _Subject, p: dict[str, Any], loaded: LoadedVersion,
               store_result: bool, actor: str | None) -> dict[str, Any]:
    x, errors = loaded.schema.check_row(p["inputs"], 0)
    if x is None or errors:
        raise Conflict(f"the logged inputs of prediction {p['prediction_id']} do not pass "
                       f"{s.info.model} v{s.info.version}'s input checks now: "
                       f"{'; '.join(e.text() for e in errors)}")
    replayed, replayed_as, reproduced = _replay(store, loaded, p, x)
    background, reference = _background(loaded, s)
    lm = linear_model(loaded.estimator, list(loaded.schema.names))
    probability = None
    if lm is not None:
        result = _explain_linear(lm, loaded, x, background)
        space = lm.space
        if lm.space == "log-odds":
            label = loaded.classes[1] if loaded.classes else 1
            probability = replayed.get("probabilities", {}).get(str(label))
            space = f"log-odds of class {label}"
    else:
        result, space, used = _explain_shapley(loaded, replayed, x, background)
        reference = {**reference, "rows": used}
    view = _view(s, p, replayed, reproduced, result, space, probability, reference)
    view["replayed_as"] = replayed_as
    view.update(_keep(store, s, view, result, store_result, actor))
    return view


def _view(s: _Subject, p: dict[str, Any], replayed: dict[str, Any], reproduced: bool,
          result: math_.Contributions, space: str, probability: float | None,
          reference: dict[str, Any]) -> dict[str, Any]:
    inputs = p["inputs"]
    ranked = sorted(zip(result.features, result.values, strict=True), key=lambda fv: -abs(fv[1]))
    return {
        "prediction_id": p["prediction_id"], "model": s.info.model, "version": s.info.version,
        "artifact_sha256": s.info.sha256, "hash_checked": True,
        "compared": _compared(p["outputs"]), "logged_output": p["outputs"], "replayed_output": replayed,
        "reproduced": reproduced,
        "method": result.method, "space": space, "output": result.output, "baseline": result.baseline,
        "probability": probability, "reference": reference,
        "contributions": [{"feature": f, "input": inputs.get(f) if isinstance(inputs, dict) else None,
                           "contribution": v} for f, v in ranked],
        "sum": math.fsum(result.values), "gap": result.gap,
    }


def _keep(store: Store, s: _Subject, view: dict[str, Any], result: math_.Contributions,
          asked: bool, actor: str | None) -> dict[str, Any]:
    """Store the explanation when asked (the permission is required: a denial is raised and
    audited) or when the model's owner asked for all of them (a reader without the
    permission still gets the explanation, told why it was not kept)."""
    if not asked and not s.store_explanations:
        return {"stored": False, "not_stored": None}
    if asked:
        who = authorize(store, actor, Permission.CHECK, model=s.info.model)
    else:
        with store.db.read() as session:
            principal = resolve(session, actor)
            problem = check(session, principal, Permission.CHECK, s.info.model)
        if problem is not None:
            return {"stored": False, "not_stored": f"the model keeps explanations, but {problem}"}
        who = principal.name
    with store.db.write() as session:
        before, after = explanations_q.put_explanation(
            session, prediction_id=view["prediction_id"], version_id=s.info.version_id,
            artifact_sha256=s.info.sha256, method=result.method, baseline=result.baseline,
            output=result.output,
            contributions={"space": view["space"], "features": result.as_dict(),
                           "reference": view["reference"], "compared": view["compared"]},
            reproduced=view["reproduced"], actor=who)
        audit.record(session, actor=who, action=AuditAction.EXPLANATION_STORE,
                     target=audit.target(s.info.model, s.info.version),
                     before=_audited(before), after=_audited(after),
                     reason="asked" if asked else "the model keeps explanations")
    log.info("kept the explanation of %s (%s)", view["prediction_id"], result.method)
    return {"stored": True, "not_stored": None}


def _audited(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"prediction_id": row["prediction_id"], "method": row["method"],
            "artifact_sha256": row["artifact_sha256"], "output": row["output"],
            "baseline": row["baseline"], "reproduced": row["reproduced"]}
