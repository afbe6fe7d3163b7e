"""NannyML's synthetic car-loan data, exported to Parquet so the Watchkeeper side (the
project's environment, pandas 3, no NannyML) reads exactly the rows the peers read. Runs in
bench/.venv-peers, never imports Watchkeeper.

    python car_loan.py FOLDER [--out RESULT.json]

Writes FOLDER/reference.parquet (50,000 rows with labels `repaid`), FOLDER/analysis.parquet
(50,000 rows without labels), FOLDER/analysis_targets.parquet (`id`, `repaid`) and
FOLDER/analysis_labelled.parquet (analysis joined with its targets on `id`, for realised
metrics), and a summary (rows, columns, dtypes, NannyML's version) to RESULT.json.

What NannyML's tutorials document about it (the story the agreement tables are read
against): a binary classifier (`y_pred_proba`, `y_pred`, target `repaid`), reference
2018-01-01 to 2018-10-30, analysis 2018-10-30 to 2019-08-29; from the middle of the
analysis (row 25,000 on; chunks 5-9 at 5,000 rows) some inputs drift and the realised ROC
AUC drops with them (CBPE's estimate from about 0.97 to 0.96). Measured here with KS /
chi-squared at 0.05 (bench/drift_agreement.py): car_value, salary_range, loan_length and
repaid_loan_on_prev_car drift in chunks 5-9 (p < 1e-90); debt_to_income_ratio,
size_of_downpayment and driver_tenure do not (driver_tenure p < 0.05 in chunks 0 and 2:
the expected false alarms of 70 tests at 0.05).
Categoricals come as pandas category / object and booleans as bool; written as they are.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

import nannyml  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    reference, analysis, targets = nannyml.load_synthetic_car_loan_dataset()
    labelled = analysis.merge(targets, on="id", how="left", validate="one_to_one")
    args.folder.mkdir(parents=True, exist_ok=True)
    frames = {"reference": reference, "analysis": analysis, "analysis_targets": targets,
              "analysis_labelled": labelled}
    for name, frame in frames.items():
        frame.to_parquet(args.folder / f"{name}.parquet", index=False)
    summary = {
        "nannyml": nannyml.__version__,
        "folder": str(args.folder),
        "files": {name: {"rows": len(frame),
                         "columns": {col: str(dtype) for col, dtype in frame.dtypes.items()}}
                  for name, frame in frames.items()},
    }
    text = json.dumps(summary, indent=1)
    if args.out:
        args.out.write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
