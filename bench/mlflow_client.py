"""MLflow's own client against `wk serve --model NAME`: is it a drop-in?

Run from the repository root:  .venv/bin/python -m bench.mlflow_client
(makes bench/.venv-mlflow on first use, as `make bench-serving` does; about 30 s after that).

In MLflow's environment, `mlflow.pyfunc.scoring_server.client.ScoringServerClient` waits
for /ping, reads /version, and invokes /invocations with a pandas DataFrame that has a
column the model does not take, then a CSV body goes to /invocations. The answers must
equal what wk's own /v1/models/NAME/predict gives for the same rows. Prints what it
checked and exits 1 on the first difference.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from bench.serving import (
    FEATURES,
    REPO,
    ServerProcess,
    build_wk_store,
    ensure_mlflow_venv,
    fit_models,
    free_port,
    post_json,
)

#: run by MLflow's python: the client as an MLflow user would call it
CLIENT = """
import json, sys
import pandas as pd
from mlflow.pyfunc.scoring_server.client import ScoringServerClient
rows = json.loads(sys.argv[3])
client = ScoringServerClient("127.0.0.1", int(sys.argv[1]))
client.wait_server_ready(timeout=30)
frame = pd.DataFrame(rows)
frame["applicant_note"] = ["n%d" % i for i in range(len(frame))]  # not in the signature
answer = client.invoke(frame)
print(json.dumps({"version": client.get_version(), "predictions": answer.get_predictions().iloc[:, 0].tolist()}))
"""


def main() -> int:
    venv = ensure_mlflow_venv()
    X, models, rows = fit_models()
    rows = rows[:20]
    with tempfile.TemporaryDirectory(prefix="wk-mlflow-client-") as tmp:
        root = Path(tmp) / "store"
        build_wk_store(root, {"lr": models["lr"]}, X)
        port = free_port()
        env = {"WK_STORE": str(root), "PATH": "/usr/bin:/bin"}
        server = ServerProcess("wk serve --model lr", [sys.executable, "-m", "console.cli", "serve", "--port",
                                                        str(port), "--model", "lr", "--no-auth"],
                               "/readyz", port, env, REPO, Path(tmp) / "serve.log").start()
        try:
            out = subprocess.run([str(venv / "bin" / "python"), "-c", CLIENT, str(port), "lr", json.dumps(rows)],
                                 capture_output=True, text=True, timeout=120)
            if out.returncode != 0:
                print(f"MLflow's client failed:\n{out.stderr[-3000:]}")
                return 1
            got = json.loads(out.stdout.strip().splitlines()[-1])
            status, native = post_json(f"{server.url}/v1/models/lr/predict", {"rows": rows})
            assert status == 200, native
            want = [p["class"] for p in native["predictions"]]
            csv = (",".join([*FEATURES, "applicant_note"]) + "\n"
                   + "".join(",".join([*(repr(r[f]) for f in FEATURES), "x"]) + "\n" for r in rows)).encode()
            request = urllib.request.Request(f"{server.url}/invocations", data=csv,
                                             headers={"Content-Type": "text/csv"})
            with urllib.request.urlopen(request, timeout=10) as response:
                by_csv = json.loads(response.read())["predictions"]
                ignored = response.headers.get("X-Ignored-Columns")
        finally:
            server.stop()
    checks = {
        "ScoringServerClient waited for /ping and read /version": bool(got["version"]),
        "its DataFrame (with an extra column) got the predictions of /v1/models/lr/predict": got["predictions"] == want,
        "a text/csv body got the same predictions": by_csv == want,
        "the extra column was named in X-Ignored-Columns": ignored == "applicant_note",
    }
    for what, ok in checks.items():
        print(f"{'ok    ' if ok else 'FAILED'} {what}")
    print(f"({len(rows)} rows, {sum(1 for c in want if c == 1)} predicted 1; wk serve version {got['version']!r})")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
