"""Model-artifact reliability and security: reliability.md §3 and §7 rows ART-01..ART-06.

ART-01 no unsafe deserialisation outside the one audited --trust path (AST check);
ART-02 skops round-trip per model family, allow-list in code; ART-03 hostile files are
refused without running their code; ART-04 the hash is checked before every load;
ART-05 no path outside the artifact folder is ever touched; ART-06 kill -9 during
publish never leaves the registry pointing at a partial file.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import killtest
import numpy as np
import pandas as pd
import pytest

from console.cli import errors as cli_errors
from store.artifacts import (
    TRUSTED_TYPES,
    ArtifactStore,
    dumps_estimator,
    read_model_file,
)
from store.errors import IntegrityError, InvalidInput, Refused
from store.handle import init_store

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHA_NAME = re.compile(r"^[0-9a-f]{64}\.skops$")
TREE = "sklearn.tree._tree.Tree"
TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


# --- helpers ----------------------------------------------------------------------------

def make_frame(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "x1": rng.normal(size=n),
        "x2": rng.normal(size=n),
        "x3": rng.uniform(0, 10, size=n),
        "colour": rng.choice(["red", "green", "blue"], size=n),
    })
    logit = 1.5 * X["x1"] - X["x2"] + (X["colour"] == "red") * 0.8
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int), name="label")
    return X, y


NUMERIC = ["x1", "x2", "x3"]


def _pre() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer([
        ("num", StandardScaler(), NUMERIC),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"]),
    ])


def build_family(family: str) -> tuple[Any, pd.DataFrame]:
    """A fitted model of the family and the frame to predict on."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X, y = make_frame()
    models = {
        "lr": (LogisticRegression(max_iter=500), X[NUMERIC]),
        "rf": (RandomForestClassifier(n_estimators=10, random_state=0), X[NUMERIC]),
        "hgb": (HistGradientBoostingClassifier(max_iter=30, random_state=0), X[NUMERIC]),
        "ct_lr": (Pipeline([("pre", _pre()), ("clf", LogisticRegression(max_iter=500))]), X),
        "ct_hgb": (Pipeline([("pre", _pre()),
                             ("clf", HistGradientBoostingClassifier(max_iter=30, random_state=0))]), X),
    }
    model, frame = models[family]
    return model.fit(frame, y), frame


FAMILIES = ["lr", "rf", "hgb", "ct_lr", "ct_hgb"]
#: What skops 0.16 reports as untrusted for each family (reliability.md §3.3).
EXPECTED_UNTRUSTED = {
    "lr": set(), "rf": {TREE}, "hgb": {TREE_PREDICTOR}, "ct_lr": set(), "ct_hgb": {TREE_PREDICTOR},
}




def rewrite_schema(data: bytes, edit: Any) -> bytes:
    """A copy of a skops zip with its schema.json passed through `edit(schema)`."""
    src = zipfile.ZipFile(io.BytesIO(data))
    schema = json.loads(src.read("schema.json"))
    edit(schema)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name in src.namelist():
            out.writestr(name, json.dumps(schema) if name == "schema.json" else src.read(name))
    return buf.getvalue()


def lr_skops_bytes() -> bytes:
    import skops.io as sio

    model, _ = build_family("lr")
    return sio.dumps(model)


def wk_cli(*args: str | Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"WK_STORE", "WK_DATABASE_URL"}}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FIXTURES), env.get("PYTHONPATH")]))
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "console", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


# --- ART-01: no unsafe deserialisation ---------------------------------------------------------

SCANNED = ["store", "registry", "console", "serving", "scheduler", "monitoring"]
#: The single audited --trust path: (file, function).
ALLOWED_UNSAFE = {("store/artifacts.py", "load_untrusted_pickle")}
UNSAFE_CALLS = {
    "pickle.load", "pickle.loads", "pickle.Unpickler", "_pickle.load", "_pickle.loads",
    "_pickle.Unpickler", "joblib.load", "marshal.load", "marshal.loads", "shelve.open",
    "pandas.read_pickle", "numpy.load", "skops.io.load", "skops.io.loads",
    "torch.load", "jsonpickle.decode", "yaml.load", "yaml.unsafe_load",
}
UNSAFE_MODULES = {"cloudpickle", "dill", "jsonpickle"}
IMPORT_FUNCS = {"importlib.import_module", "__import__"}


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    return None


def _kw_true(call: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in call.keywords)


def unsafe_deserialisation(source: str, rel: str) -> list[str]:
    """Findings as 'file:line function: what' for one module's source."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {"pd": "pandas", "np": "numpy"}
    findings: list[str] = []
    for node in ast.walk(tree):  # import aliases anywhere in the module (lazy imports too)
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[(a.asname or a.name).split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"

    def visit(node: ast.AST, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            where = func
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                where = child.name
            what = None
            if isinstance(child, ast.Import | ast.ImportFrom):
                mods = [a.name for a in child.names] if isinstance(child, ast.Import) else [child.module or ""]
                bad = [m for m in mods if m.split(".")[0] in UNSAFE_MODULES]
                what = f"import {', '.join(bad)}" if bad else None
            elif isinstance(child, ast.Call):
                name = _dotted(child.func, aliases) or ""
                if name.split(".")[0] in UNSAFE_MODULES or name in UNSAFE_CALLS:
                    if name == "numpy.load" and not _kw_true(child, "allow_pickle"):
                        name = ""
                    if name.startswith("skops.io.load") and not _kw_true(child, "trusted"):
                        name = ""
                    if name == "yaml.load" and any(k.arg == "Loader" for k in child.keywords):
                        name = ""
                    what = f"call {name}" if name else None
                elif name in IMPORT_FUNCS and child.args and isinstance(child.args[0], ast.Constant):
                    mod = str(child.args[0].value).split(".")[0]
                    if mod in UNSAFE_MODULES | {"pickle", "_pickle", "marshal", "shelve"}:
                        what = f"dynamic import of {mod}"
            if what and (rel, where) not in ALLOWED_UNSAFE:
                findings.append(f"{rel}:{child.lineno} {where}: {what}")
            elif what:
                findings.append(f"ALLOWED {rel}:{child.lineno} {where}: {what}")
            visit(child, where)

    visit(tree, "<module>")
    return findings


def scan_tree(dirs: list[str]) -> list[str]:
    out: list[str] = []
    for d in dirs:
        base = REPO / d
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            out += unsafe_deserialisation(path.read_text(), rel)
    return out


def test_art01_no_unsafe_deserialisation_outside_the_trust_path() -> None:
    findings = scan_tree(SCANNED)
    bad = [f for f in findings if not f.startswith("ALLOWED ")]
    allowed = [f for f in findings if f.startswith("ALLOWED ")]
    assert bad == [], "unsafe deserialisation outside store/artifacts.py:load_untrusted_pickle:\n" + "\n".join(bad)
    # The audited path still exists and is the only one (so this test keeps meaning something).
    assert [a.split(":")[0] for a in allowed] == ["ALLOWED store/artifacts.py"], allowed


def test_art01_scanner_catches_every_form() -> None:
    source = '''
import pickle
import pickle as pk
import joblib, marshal
from pickle import loads as pl
from joblib import load
import cloudpickle
import numpy as np
import skops.io as sio
import importlib

def f(p, data):
    pickle.load(p)
    pk.loads(data)
    pl(data)
    joblib.load(p)
    load(p)
    marshal.loads(data)
    pickle.Unpickler(p).load()
    np.load(p, allow_pickle=True)
    sio.load(p, trusted=True)
    importlib.import_module("dill")

def fine(p, data):
    np.load(p)
    sio.load(p, trusted=["sklearn.tree._tree.Tree"])
    pickle.dumps(data)
'''
    found = [f.split(":", 1)[1] for f in unsafe_deserialisation(source, "serving/evil.py")]
    assert found == [
        "7 <module>: import cloudpickle",
        "13 f: call pickle.load",
        "14 f: call pickle.loads",
        "15 f: call pickle.loads",
        "16 f: call joblib.load",
        "17 f: call joblib.load",
        "18 f: call marshal.loads",
        "19 f: call pickle.Unpickler",
        "20 f: call numpy.load",
        "21 f: call skops.io.load",
        "22 f: dynamic import of dill",
    ]  # and nothing from fine()


# --- ART-02: skops round trip per family -------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_art02_skops_round_trip_is_bit_identical(family: str, store: Any) -> None:
    import skops.io as sio

    model, frame = build_family(family)
    before = model.predict_proba(frame)
    data = sio.dumps(model)
    untrusted = set(sio.get_untrusted_types(data=data))
    assert untrusted <= set(TRUSTED_TYPES), f"{family} needs types outside the allow-list: {untrusted}"
    assert untrusted == EXPECTED_UNTRUSTED[family]

    stored = store.artifacts.put_estimator(model)
    path = store.artifacts.path_for(stored.sha256)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == stored.sha256
    assert stored.size == path.stat().st_size
    loaded = store.artifacts.load(stored.sha256)
    assert type(loaded) is type(model)
    after = loaded.predict_proba(frame)
    assert after.dtype == before.dtype and after.shape == before.shape
    assert after.tobytes() == before.tobytes(), f"{family}: predict_proba differs after load"


def test_art02_allow_list_is_exactly_what_the_families_need() -> None:
    """Any new type in the allow-list fails here: widen it only with a reason in the code."""
    needed = set().union(*EXPECTED_UNTRUSTED.values())
    assert set(TRUSTED_TYPES) == needed == {TREE, TREE_PREDICTOR}
    assert "numpy.dtype" not in TRUSTED_TYPES


def test_art02_model_needing_another_type_is_refused_at_save() -> None:
    from sklearn.impute import SimpleImputer  # stores a numpy.dtype skops does not trust

    X, _ = make_frame(50)
    with pytest.raises(Refused, match="numpy.dtype"):
        dumps_estimator(SimpleImputer().fit(X[NUMERIC]))


def test_art02_registry_round_trip(store: Any) -> None:
    from registry.registration import register_estimator
    from registry.versions import load_model

    model, frame = build_family("ct_hgb")
    v = register_estimator(store, "churn", model, training_data=frame)
    loaded = load_model(store, "churn", v["version"])
    assert loaded.predict_proba(frame).tobytes() == model.predict_proba(frame).tobytes()


# --- ART-03: hostile files are refused without running code -----------------------------------

def _inject_type(module: str, name: str) -> Any:
    def edit(schema: dict[str, Any]) -> None:
        schema["content"]["content"]["penalty"] = {
            "__class__": name, "__module__": module, "__loader__": "TypeNode", "__id__": 1,
        }
    return edit


def _unknown_class(marker: Path) -> Any:
    def edit(schema: dict[str, Any]) -> None:
        schema["__class__"], schema["__module__"] = "MarkerOnSkopsLoad", "evil_pickle"
        attrs = schema["content"]
        attrs["content"]["marker"] = {"__class__": "str", "__module__": "builtins",
                                      "__loader__": "JsonNode", "content": json.dumps(str(marker)),
                                      "is_json": True, "__id__": 2}
        attrs["key_types"]["content"].append(
            {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode", "__id__": 3})
    return edit


@pytest.mark.parametrize("kind,expected", [
    ("posix.system", "posix.system"),
    ("builtins.eval", "builtins.eval"),
    ("unknown-class", "evil_pickle.MarkerOnSkopsLoad"),
])
def test_art03_crafted_skops_files_are_refused(kind: str, expected: str, store: Any,
                                               tmp_path: Path) -> None:
    import skops.io as sio

    marker = tmp_path / "marker"
    edit = _unknown_class(marker) if kind == "unknown-class" else _inject_type(*kind.split("."))
    data = rewrite_schema(lr_skops_bytes(), edit)
    assert sio.get_untrusted_types(data=data) == [expected]  # the file really names it

    stored = store.artifacts.put_bytes(data)  # correct hash: only the allow-list stands guard
    with pytest.raises(Refused, match=re.escape(expected)):
        store.artifacts.load(stored.sha256)
    path = tmp_path / "model.skops"
    path.write_bytes(data)
    for trust in (False, True):  # --trust is for pickles; it never widens the skops allow-list
        with pytest.raises(Refused, match=re.escape(expected)):
            read_model_file(path, trust=trust)
    assert not marker.exists()

    if kind == "unknown-class":  # positive control: this file does run code if trusted
        sio.loads(data, trusted=[expected])
        assert marker.exists()


def test_art03_pickle_refused_without_trust(tmp_path: Path) -> None:
    import evil_pickle

    marker = tmp_path / "marker"
    path = evil_pickle.write_stdlib_pickle(tmp_path / "model.pkl", marker)
    with pytest.raises(Refused) as refused:
        read_model_file(path, trust=False)
    assert "--trust" in cli_errors.text(refused.value)  # the CLI words the trust field as its flag
    assert not marker.exists()
    read_model_file(path, trust=True)  # positive control: the payload runs when trusted
    assert marker.exists()


def test_art03_cli_pickle_import_needs_trust_and_is_audited(tmp_path: Path) -> None:
    import evil_pickle

    root = tmp_path / "store"
    s, _ = init_store(root)
    s.close()
    model, frame = build_family("lr")
    marker = tmp_path / "marker"
    pkl = evil_pickle.write_wrapped_model_pickle(tmp_path / "model.pkl", model, marker)

    r = wk_cli("models", "register", "m", pkl, "--store", root)
    assert r.returncode == 5, r.stderr
    assert "--trust" in r.stderr
    assert not marker.exists()
    r = wk_cli("audit", "--json", "--store", root)
    assert r.returncode == 0, r.stderr
    assert [e for e in json.loads(r.stdout) if e["action"] == "artifact.trust"] == []
    assert [p.name for p in (root / "artifacts").iterdir()] == []

    r = wk_cli("models", "register", "m", pkl, "--trust", "--store", root, "--json")
    assert r.returncode == 0, r.stderr
    assert marker.exists()  # proves the refusal above was not a failure to load the module
    version = json.loads(r.stdout)
    r = wk_cli("audit", "--json", "--store", root)
    events = json.loads(r.stdout)
    trust = [e for e in events if e["action"] == "artifact.trust"]
    assert len(trust) == 1 and trust[0]["target"] == "model/m"
    assert trust[0]["after"]["file"] == str(pkl)
    assert any(e["action"] == "version.register" for e in events)
    # The trusted import was converted to a skops file that loads without the pickle.
    s = init_store(root)[0]
    try:
        from registry.versions import load_model

        loaded = load_model(s, "m", version["version"])
    finally:
        s.close()
    assert loaded.predict_proba(frame).tobytes() == model.predict_proba(frame).tobytes()


# --- ART-04: integrity check before load --------------------------------------------------------

@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_art04_flipped_byte_is_refused(where: str, store: Any) -> None:
    from registry.registration import register_estimator
    from registry.versions import load_model

    model, frame = build_family("lr")
    v = register_estimator(store, "m", model, training_data=frame)
    sha = v["artifact"]["sha256"]
    path = store.artifacts.path_for(sha)
    data = bytearray(path.read_bytes())
    i = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
    data[i] ^= 0x01
    path.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    for load in (lambda: store.artifacts.load(sha), lambda: load_model(store, "m", 1)):
        with pytest.raises(IntegrityError) as info:
            load()
        assert sha in str(info.value) and actual in str(info.value)


def test_art04_valid_file_of_another_model_is_refused(store: Any) -> None:
    import skops.io as sio

    from registry.registration import register_estimator
    from registry.versions import load_model

    model, frame = build_family("lr")
    other, _ = build_family("ct_lr")
    v = register_estimator(store, "m", model, training_data=frame)
    sha = v["artifact"]["sha256"]
    replacement = sio.dumps(other)
    store.artifacts.path_for(sha).write_bytes(replacement)
    actual = hashlib.sha256(replacement).hexdigest()
    with pytest.raises(IntegrityError) as info:
        load_model(store, "m", 1)
    assert sha in str(info.value) and actual in str(info.value)


# --- ART-05: path traversal ----------------------------------------------------------------------

_FS_EVENTS = {"open", "os.remove", "os.rename", "os.symlink", "os.link", "os.mkdir", "os.rmdir",
              "os.truncate", "os.chmod", "os.chown", "os.listdir", "os.scandir", "os.utime"}
_watch: list[tuple[str, str]] | None = None
_hook_installed = False


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    if _watch is None or event not in _FS_EVENTS:
        return
    for arg in args[:2] if event in {"os.rename", "os.symlink", "os.link"} else args[:1]:
        if isinstance(arg, str | bytes | os.PathLike):
            _watch.append((event, os.fsdecode(arg)))


class FileAccess:
    """Every file-system path this process touches inside the block (PEP 578 audit hook)."""

    def __enter__(self) -> list[tuple[str, str]]:
        global _watch, _hook_installed
        if not _hook_installed:
            sys.addaudithook(_audit_hook)
            _hook_installed = True
        _watch = []
        return _watch

    def __exit__(self, *exc: object) -> None:
        global _watch
        _watch = None


def _outside(events: list[tuple[str, str]], root: Path) -> list[tuple[str, str]]:
    root = root.resolve()
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    return [(e, p) for e, p in events
            if not Path(p).resolve().is_relative_to(root)
            and not any(p.startswith(x) for x in prefixes)]


BAD_NAMES = [
    "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e%2f", "%252e%252e%252f", "..;/",
    "/etc/passwd", "/" + "a" * 64, "a" * 63 + "\x00", "a" * 64 + "\x00", "\x00" + "a" * 63,
    "A" * 64, "AB" * 32, "a" * 63, "a" * 65, "a" * 64 + "\n", "a" * 64 + ".skops",
    "../" + "a" * 61, "", ".", "..", 12345, None, b"a" * 64,
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_art05_non_sha_names_are_refused_and_touch_nothing(name: Any, tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    root.mkdir()
    secret = tmp_path / "secret"
    secret.write_text("outside the root")
    arts = ArtifactStore(root)
    with FileAccess() as events:
        for op in (arts.path_for, arts.read_verified, arts.load):
            with pytest.raises((InvalidInput, Refused)):
                op(name)
    assert _outside(events, root) == []
    assert events == []  # refused before any file access at all
    assert secret.read_text() == "outside the root"
    assert list(root.iterdir()) == []


def test_art05_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    root.mkdir()
    payload = lr_skops_bytes()
    outside = tmp_path / "elsewhere.skops"
    outside.write_bytes(payload)
    sha = hashlib.sha256(payload).hexdigest()
    (root / f"{sha}.skops").symlink_to(outside)
    arts = ArtifactStore(root)
    with FileAccess() as events:
        for op in (arts.read_verified, arts.load):
            with pytest.raises(Refused):
                op(sha)
    assert _outside(events, root) == [], "read through a link to a file outside the root"


def test_art05_symlink_inside_the_root_is_refused(tmp_path: Path) -> None:
    """A link to a file inside the folder whose content even hashes right: still refused,
    so nobody can swap what a name points at (and read_verified reads no link at all)."""
    root = tmp_path / "artifacts"
    root.mkdir()
    payload = lr_skops_bytes()
    sha = hashlib.sha256(payload).hexdigest()
    decoy = root / ".incoming-decoy.skops"
    decoy.write_bytes(payload)
    (root / f"{sha}.skops").symlink_to(decoy)
    arts = ArtifactStore(root)
    with pytest.raises(Refused, match="symbolic link"):
        arts.read_verified(sha)
    # Publishing the same content replaces the link by a regular file; the decoy is untouched.
    arts.put_bytes(payload)
    assert not (root / f"{sha}.skops").is_symlink()
    assert arts.read_verified(sha) == payload
    assert decoy.read_bytes() == payload


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_art05_non_regular_file_under_a_sha_name_is_refused(kind: str, tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    root.mkdir()
    sha = "0" * 64
    path = root / f"{sha}.skops"
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    arts = ArtifactStore(root)
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            arts.read_verified(sha)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion below
            outcome.append(exc)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(timeout=10)
    if t.is_alive() and kind == "fifo":  # unblock the reader before failing
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        t.join(timeout=5)
        pytest.fail("read_verified blocked on a FIFO planted under a sha256 name")
    assert len(outcome) == 1 and isinstance(outcome[0], Refused), outcome


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".", "/etc/passwd", "a\\b", "a\x00b",
                                  "%2e%2e%2f", "..;", "", " x", "x" * 101, "-x"])
def test_art05_model_names_that_could_become_paths_are_refused(name: str, store: Any) -> None:
    from registry.models import check_model_name
    from registry.registration import register_estimator

    with pytest.raises(InvalidInput):
        check_model_name(name)
    model, frame = build_family("lr")
    with pytest.raises(InvalidInput):
        register_estimator(store, name, model, training_data=frame)
    assert list(store.location.artifacts_dir.iterdir()) == []


@pytest.mark.parametrize("check,name", [("check_model_name", "churn\n"),
                                        ("check_alias_name", "production\n")])
def test_art05_name_with_trailing_newline_is_refused(check: str, name: str) -> None:
    from registry import aliases, models

    with pytest.raises(InvalidInput):
        getattr(models if check == "check_model_name" else aliases, check)(name)


# --- ART-06: atomic publish under kill -9 ---------------------------------------------------------

ART06_CHILD = r"""
import sys
from pathlib import Path
from registry.registration import register_estimator
from store.artifacts import loads_estimator
from store.handle import open_store

store = open_store(sys.argv[1])
model = loads_estimator(Path(sys.argv[2]).read_bytes())
progress = open(sys.argv[3], "a", buffering=1)
nonce = int(sys.argv[4])
ready_at_write = sys.argv[5] == "write"  # READY just before the first file write
arts = store.artifacts
publish = arts.put_bytes

def put_bytes(data):  # phase marks: skops dump -> write+fsync+rename -> commit
    progress.write(f"write {i}\n")
    if ready_at_write and i == 0:
        print("READY", flush=True)
    stored = publish(data)
    progress.write(f"published {i}\n")
    return stored

arts.put_bytes = put_bytes
if not ready_at_write:
    print("READY", flush=True)
i = 0
while True:
    model.random_state = nonce * 1000 + i   # new bytes, so a new file every time
    progress.write(f"dump {i}\n")
    v = register_estimator(store, "forest", model, actor="killtest")
    progress.write(f"done {i} {v['version']} {v['artifact']['sha256']}\n")
    i += 1
"""


def _sha_file(path: Path, cache: dict[tuple[int, int, int], str]) -> str:
    st = path.stat()
    key = (st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in cache:
        cache[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return cache[key]


def verify_artifacts(root: Path, reported: set[str], cache: dict[tuple[int, int, int], str]) -> dict[str, int]:
    """integrity_check, every registered file present and whole, every sha-named file whole."""
    arts = root / "artifacts"
    conn = sqlite3.connect(root / "watchkeeper.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT version, artifact_sha256, artifact_size FROM model_version "
                            "ORDER BY version").fetchall()
        registered_events = conn.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'version.register'").fetchone()[0]
    finally:
        conn.close()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "version numbers have gaps"
    assert registered_events == len(rows), "a version row without its audit event (or reverse)"
    for version, sha, size in rows:
        path = arts / f"{sha}.skops"
        assert path.is_file() and not path.is_symlink(), f"v{version} points at a missing file"
        assert path.stat().st_size == size, f"v{version}: {path.name} is partial"
        assert _sha_file(path, cache) == sha, f"v{version}: {path.name} does not hash to its name"
    missing = reported - {sha for _, sha, _ in rows}
    assert not missing, f"versions the child saw committed are gone: {missing}"
    named = [p for p in arts.iterdir() if SHA_NAME.match(p.name)]
    for p in named:
        assert _sha_file(p, cache) == p.name.removesuffix(".skops"), f"partial file {p.name}"
    others = [p.name for p in arts.iterdir() if not SHA_NAME.match(p.name)]
    assert all(n.startswith(".incoming-") for n in others), others
    return {"versions": len(rows), "files": len(named), "incoming": len(others)}


def test_art06_kill_during_publish_never_leaves_a_partial_artifact(tmp_path: Path) -> None:
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier

    root = tmp_path / "store"
    init_store(root)[0].close()
    X, y = make_frame(1000)
    forest = RandomForestClassifier(n_estimators=200, max_depth=6, random_state=0).fit(X[NUMERIC], y)
    model_file = tmp_path / "forest.skops"
    model_file.write_bytes(sio.dumps(forest))
    progress = tmp_path / "progress.log"
    cache: dict[tuple[int, int, int], str] = {}
    stats: list[dict[str, int]] = []
    landed = {"dump": 0, "write": 0, "published": 0, "done": 0, "killed": 0}

    def verify(i: int) -> None:
        lines = progress.read_text().splitlines()
        reported = {ln.split()[3] for ln in lines if ln.startswith("done ")}
        landed[lines[-1].split()[0] if lines else "killed"] += 1  # the phase the kill hit
        with progress.open("a") as fh:
            fh.write("killed\n")
        stats.append(verify_artifacts(root, reported, cache))

    preload = ["skops.io", "sklearn.ensemble", "registry.registration", "store.handle"]
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    with killtest.ForkServer(preload, env=env) as server:
        # Even kills: any moment of the loop's first 2 s (1 s let no publish finish when the
        # suite's other worker loaded the machine). Odd kills: within 30 ms of the first file
        # write (temp file, fsync, rename take ~10 ms for this 4 MB model).
        result = killtest.crash_loop(
            lambda i: server.start(ART06_CHILD, [root, model_file, progress, i,
                                                 "write" if i % 2 else "setup"],
                                   tmp_path / "children"),
            verify, kills=20, max_delay=lambda i: 0.03 if i % 2 else 2.0)
    assert result.kills == 20
    final = stats[-1]
    assert final["versions"] >= 2, f"the child barely worked; stats {stats}"
    # Kills really landed inside put_estimator (skops dump, then temp file, fsync, rename).
    assert landed["dump"] + landed["write"] >= 5, landed
    # The newest version still loads and predicts (the "old model keeps serving").
    s = init_store(root)[0]
    try:
        from registry.versions import load_model

        loaded = load_model(s, "forest", final["versions"])
    finally:
        s.close()
    assert loaded.predict_proba(X[NUMERIC]).shape == (1000, 2)
    print(f"\nART-06: {result.kills} kills (seed {result.seed}), {landed}, final {final}, "
          f"child start-up {np.median(result.startup_s):.2f} s median")
