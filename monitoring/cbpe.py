"""Label-free performance estimate of a binary classifier (pure): confidence-based
performance estimation (CBPE), as NannyML describes it.

If a model's probabilities are calibrated, a row scored p is positive with probability p,
so a window's confusion matrix can be expected without its labels:

    predicted positive (score >= threshold): TP += p, FP += 1 - p
    predicted negative:                      FN += p, TN += 1 - p

and accuracy, precision, recall and F1 follow from the expected counts. ROC AUC is
estimated the way NannyML does it: rank the rows by the model's own score, count expected
true positives as the cumulated calibrated p down the ranking and false positives as the
rest, and take the area under that expected ROC curve (rows with tied scores form one
step, as ``sklearn.metrics.roc_curve`` treats ties).

Calibration (`fit_cbpe`) maps the model's scores to probabilities with isotonic
regression fitted on the reference (labelled rows the model was judged on, e.g. its
holdout). It is used only when it lowers the error on held-out data: 5-fold stratified
cross-validation on the reference, pooled over the folds, must show both a lower Brier
score and a lower expected calibration error (ECE, 10 equal-count bins, NannyML's
measure) than the raw scores; otherwise the calibrator is the identity. The fitted map is
kept as its breakpoints (``X_thresholds_``/``y_thresholds_``) in a JSON-serialisable dict
and rebuilt with ``np.interp``, which is what ``IsotonicRegression.predict`` computes with
``out_of_bounds="clip"``: no pickle.

The estimate assumes no concept drift: P(label | inputs) is the same as in the reference.
Covariate drift (inputs move, the relation holds) is what CBPE follows; under concept
drift the realised metrics fall and the estimate does not. `estimate` returns that
assumption as text, to be shown wherever the estimate is.

Binary only: a calibrator is fitted on one positive-class probability; labels with more
than two values or a probability matrix of more than two columns are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import numpy as np

from store.errors import InvalidInput

METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1", "roc_auc")
FOLDS = 5
ECE_BINS = 10
#: fewer reference rows per class than this and the held-out comparison is noise
MIN_ROWS_PER_CLASS = 2 * FOLDS
FORMAT = 1


class Calibrator(TypedDict):
    """A fitted CBPE calibrator, JSON-serialisable (store it as it is)."""

    format: int
    kind: str  # "isotonic" or "identity"
    threshold: float
    X_thresholds_: list[float]
    y_thresholds_: list[float]
    reference_rows: int
    reference_positive_share: float
    cv_brier_raw: float | None  # held-out Brier score of the raw scores
    cv_brier_calibrated: float | None  # ... of the isotonic map fitted on the other folds
    cv_ece_raw: float | None
    cv_ece_calibrated: float | None
    reason: str  # why isotonic or identity


class Estimate(TypedDict):
    """A window's estimated metrics (None where the window cannot define one)."""

    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    roc_auc: float | None
    rows: int
    calibrated: bool
    undefined: dict[str, str]
    assumptions: str


def assumptions(calibrator: Mapping[str, Any]) -> str:
    """What the estimate takes for granted, to show beside it."""
    return ("assumes no concept drift: P(label | inputs) unchanged since the reference; "
            f"calibrated on {calibrator['reference_rows']} reference rows")


def positive_scores(scores: np.ndarray, *, field: str = "scores") -> np.ndarray:
    """The positive-class probability per row: a 1-D array, or column 1 of a (rows, 2)
    matrix of class probabilities. More classes are refused (this CBPE is binary)."""
    s = np.asarray(scores, dtype=float)
    if s.ndim == 2 and s.shape[1] == 2:
        s = s[:, 1]
    elif s.ndim == 2:
        raise InvalidInput(
            f"{field} have {s.shape[1]} columns: CBPE here estimates binary classifiers only "
            "(one positive-class probability per row); a multiclass model gets no estimate",
            field=field,
        )
    if s.ndim != 1:
        raise InvalidInput(f"{field} must be one probability per row, got shape {s.shape}",
                           field=field)
    if not np.isfinite(s).all() or (s < 0).any() or (s > 1).any():
        bad = int(np.flatnonzero(~(np.isfinite(s) & (s >= 0) & (s <= 1)))[0])
        raise InvalidInput(f"{field}[{bad}] is {float(s[bad])}; scores are probabilities in [0, 1]; "
                           "leave out rows whose output was not finite", field=field)
    return s


def _binary_labels(labels: np.ndarray, n: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != n:
        raise InvalidInput(f"reference_labels must be one label per score ({n}), got shape "
                           f"{y.shape}", field="reference_labels")
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:
        shown = ", ".join(repr(v) for v in sorted(values, key=repr)[:5])
        raise InvalidInput(
            f"reference_labels must be 0/1 (1 = the positive class, classes[1]); got {shown}. "
            "Map labels to class positions first (monitoring.performance.class_indices); "
            "CBPE here is binary only", field="reference_labels", example="[0, 1, 0]",
        )
    return y.astype(np.int64)


def brier(labels: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - labels) ** 2))


def expected_calibration_error(labels: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE over equal-count bins of the sorted probabilities (NannyML's binning): the
    row-weighted mean gap between a bin's mean probability and its positive share."""
    order = np.argsort(p, kind="stable")
    n = len(p)
    bins = max(1, min(bins, n // 2))
    total = 0.0
    for chunk in np.array_split(order, bins):
        if len(chunk):
            total += len(chunk) / n * abs(float(p[chunk].mean()) - float(labels[chunk].mean()))
    return total


def _isotonic(scores: np.ndarray, labels: np.ndarray) -> Any:
    from sklearn.isotonic import IsotonicRegression

    return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0,
                              increasing=True).fit(scores, labels)


def _held_out(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each reference row's calibrated probability from an isotonic map fitted on the
    other folds."""
    from sklearn.model_selection import StratifiedKFold

    out = np.empty(len(scores), dtype=float)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
    for train, test in folds.split(scores.reshape(-1, 1), labels):
        out[test] = _isotonic(scores[train], labels[train]).predict(scores[test])
    return out


def _calibrator(kind: str, threshold: float, scores: np.ndarray, labels: np.ndarray,
                reason: str, cv: tuple[float, float, float, float] | None = None,
                fitted: Any = None) -> Calibrator:
    return Calibrator(
        format=FORMAT, kind=kind, threshold=threshold,
        X_thresholds_=[] if fitted is None else [float(v) for v in fitted.X_thresholds_],
        y_thresholds_=[] if fitted is None else [float(v) for v in fitted.y_thresholds_],
        reference_rows=len(scores),
        reference_positive_share=float(labels.mean()) if len(labels) else 0.0,
        cv_brier_raw=None if cv is None else cv[0],
        cv_brier_calibrated=None if cv is None else cv[1],
        cv_ece_raw=None if cv is None else cv[2],
        cv_ece_calibrated=None if cv is None else cv[3],
        reason=reason,
    )


def fit_cbpe(reference_scores: np.ndarray, reference_labels: np.ndarray, *,
             threshold: float = 0.5) -> Calibrator:
    """A CBPE calibrator from the reference's positive-class scores and 0/1 labels.

    Isotonic when it lowers both the held-out Brier score and ECE of the raw scores,
    else the identity (the reason says which and by how much). ``threshold``: a score at
    or above it is a positive prediction (0.5 for ``predict`` of most classifiers)."""
    if not 0.0 < threshold < 1.0:
        raise InvalidInput(f"threshold must be in (0, 1), got {threshold!r}",
                           field="threshold", example="0.5")
    s = positive_scores(reference_scores, field="reference_scores")
    y = _binary_labels(reference_labels, len(s))
    counts = np.bincount(y, minlength=2)
    if counts.min() < MIN_ROWS_PER_CLASS:
        return _calibrator(
            "identity", threshold, s, y,
            f"not calibrated: {counts[0]} negative and {counts[1]} positive reference rows, "
            f"need {MIN_ROWS_PER_CLASS} of each to test calibration on held-out folds")
    from sklearn.metrics import roc_auc_score

    if roc_auc_score(y, s) > 0.999:
        return _calibrator("identity", threshold, s, y,
                           "not calibrated: the reference scores separate the classes "
                           "(ROC AUC > 0.999), nothing to calibrate")
    held_out = _held_out(s, y)
    cv = (brier(y, s), brier(y, held_out),
          expected_calibration_error(y, s), expected_calibration_error(y, held_out))
    numbers = (f"held-out Brier {cv[0]:.4f} raw vs {cv[1]:.4f} calibrated, "
               f"ECE {cv[2]:.4f} vs {cv[3]:.4f}")
    if cv[1] < cv[0] and cv[3] < cv[2]:
        return _calibrator("isotonic", threshold, s, y, f"isotonic: {numbers}", cv,
                           _isotonic(s, y))
    return _calibrator("identity", threshold, s, y,
                       f"not calibrated: calibration does not lower both errors ({numbers})",
                       cv)


def calibrate(calibrator: Mapping[str, Any], scores: np.ndarray) -> np.ndarray:
    """The calibrated probability of each positive-class score."""
    check_calibrator(calibrator)
    s = positive_scores(scores)
    if calibrator["kind"] == "identity":
        return s
    return np.interp(s, calibrator["X_thresholds_"], calibrator["y_thresholds_"])


def check_calibrator(calibrator: Mapping[str, Any]) -> None:
    """Refuse a dict that is not a calibrator `fit_cbpe` made (e.g. a stored one of
    another format, or one edited by hand)."""
    problem = None
    if calibrator.get("format") != FORMAT:
        problem = f"format {calibrator.get('format')!r}, expected {FORMAT}"
    elif calibrator.get("kind") not in ("isotonic", "identity"):
        problem = f"kind {calibrator.get('kind')!r}, expected isotonic or identity"
    elif not isinstance(calibrator.get("threshold"), int | float):
        problem = "no threshold"
    elif calibrator["kind"] == "isotonic":
        xs, ys = calibrator.get("X_thresholds_"), calibrator.get("y_thresholds_")
        if not xs or not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
            problem = "isotonic breakpoints X_thresholds_/y_thresholds_ missing or unequal"
        elif np.any(np.diff(np.asarray(xs, dtype=float)) < 0):
            problem = "X_thresholds_ not sorted"
    if problem is not None:
        raise InvalidInput(f"not a CBPE calibrator: {problem}; fit one again with fit_cbpe",
                           field="calibrator")


def expected_roc_auc(p: np.ndarray, ranking: np.ndarray) -> float | None:
    """Area under the expected ROC curve: rows ranked by ``ranking`` (the model's score,
    highest first), each counting p expected positives and 1 - p negatives; tied scores
    form one step. None when no positive or no negative is expected."""
    order = np.argsort(-ranking, kind="stable")
    p_sorted, r_sorted = p[order], ranking[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(r_sorted)), len(r_sorted) - 1]
    tps = np.r_[0.0, np.cumsum(p_sorted)[last_of_tie]]
    fps = np.r_[0.0, np.cumsum(1.0 - p_sorted)[last_of_tie]]
    if tps[-1] <= 0 or fps[-1] <= 0:
        return None
    tpr, fpr = tps / tps[-1], fps / fps[-1]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def estimate(calibrator: Mapping[str, Any], scores: np.ndarray, *,
             predicted_positive: np.ndarray | None = None) -> Estimate:
    """Estimated accuracy, precision, recall, F1 and ROC AUC of a window from its
    positive-class scores. ``predicted_positive`` (bool per row) gives the model's own
    decisions where they are not ``score >= threshold``."""
    s = positive_scores(scores)
    p = calibrate(calibrator, s)
    n = len(s)
    if predicted_positive is None:
        positive = s >= calibrator["threshold"]
    else:
        positive = np.asarray(predicted_positive, dtype=bool)
        if positive.shape != s.shape:
            raise InvalidInput(f"predicted_positive has shape {positive.shape}, scores "
                               f"{s.shape}; give one decision per score",
                               field="predicted_positive")
    values: dict[str, float | None] = dict.fromkeys(METRICS)
    undefined: dict[str, str] = {}
    if n == 0:
        undefined = dict.fromkeys(METRICS, "no predictions in the window")
    else:
        tp = float(p[positive].sum())
        fp = float((1.0 - p[positive]).sum())
        fn = float(p[~positive].sum())
        tn = float((1.0 - p[~positive]).sum())
        values["accuracy"] = (tp + tn) / n
        if positive.any():
            values["precision"] = tp / (tp + fp)
        else:
            undefined["precision"] = f"no row predicted positive among {n}"
        if tp + fn > 0:
            values["recall"] = tp / (tp + fn)
        else:
            undefined["recall"] = f"no positive expected among {n} rows (every p is 0)"
        if 2 * tp + fp + fn > 0:
            values["f1"] = 2 * tp / (2 * tp + fp + fn)
        else:
            undefined["f1"] = f"no positive expected or predicted among {n} rows"
        values["roc_auc"] = expected_roc_auc(p, s)
        if values["roc_auc"] is None:
            undefined["roc_auc"] = (f"the calibrated probabilities of {n} rows expect only one "
                                    "class; ROC AUC needs both")
    return Estimate(
        accuracy=values["accuracy"], precision=values["precision"], recall=values["recall"],
        f1=values["f1"], roc_auc=values["roc_auc"], rows=n,
        calibrated=calibrator["kind"] == "isotonic", undefined=undefined,
        assumptions=assumptions(calibrator),
    )
