"""Pages generated from the code at every docs build.

``conf.py`` calls :func:`generate` before Sphinx looks for source files, so
what is written here is read like any hand-written page:

* ``api/<module>.rst``: one API page per public module, its autosummary lists
  taken from the module's ``__all__`` (modules that do not exist yet are
  skipped, new ones are found by walking the package);
* ``_generated/api_toc.rst``: the toctree of those pages (included by
  ``api.rst``);
* ``_generated/aggregators.rst``: the table of ``choosing.rst``, one row per
  entry of ``skcrowd.aggregation.AGGREGATORS``;
* ``_generated/datasets.rst``: the shipped datasets with their sizes;
* ``_generated/cli.rst``: ``--help`` of the command and of every subcommand;
* ``_generated/benchmarks.rst``: the table of ``benchmarks/run.py --json``
  when ``_generated/benchmarks.json`` exists, else how to produce it.

Every file is rewritten only when its content changed, so incremental builds
stay incremental. Problems found on the way (a public class or function
without an Examples section, a module that fails to import) are returned as
messages that ``conf.py`` turns into Sphinx warnings (errors under ``-W``).
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import os
import pkgutil
import re
from pathlib import Path

#: Public modules in the order of the API reference, with their page title.
#: Any other public submodule with an ``__all__`` is appended after them.
MODULE_TITLES = {
    "skcrowd": "Votes and input formats",
    "skcrowd.aggregation": "Aggregators",
    "skcrowd.crowdlab": "CROWDLAB: votes combined with a classifier",
    "skcrowd.learning_from_crowds": "A classifier trained on crowd votes",
    "skcrowd.identification": "Worker and task scores",
    "skcrowd.metrics": "Metrics and scorers",
    "skcrowd.simulation": "Simulated crowds",
    "skcrowd.datasets": "Shipped datasets",
    "skcrowd.stores": "State stores for partial_fit",
    "skcrowd.plotting": "Plots",
    "skcrowd.distributed": "Dask",
    "skcrowd.base": "Base classes, for writing new aggregators",
}
#: Public-looking submodules that are not part of the Python API.
NOT_API = {"skcrowd.cli"}

#: What each aggregator assumes, for the table of ``choosing.rst``.
#: Columns: per-worker confusion, task difficulty, worker correlation,
#: spammers, few votes per item, parameters per worker, cost of one pass.
#: "yes" = modelled, "partly", "no"; an aggregator missing here still gets a
#: row (from the registry), with its docstring's summary and blank cells.
AGGREGATOR_FACTS = {
    "MajorityVote": ("no", "no", "no", "no", "yes", "0",
                     "one pass, O(votes)"),
    "VoteProportions": ("no", "no", "no", "no", "yes", "0",
                        "one pass, O(votes)"),
    "Wawa": ("no", "no", "no", "partly", "yes", "1", "two passes, O(votes)"),
    "GoldMajorityVote": ("no", "no", "no", "yes (gold)", "yes", "1",
                         "one pass, O(votes); needs gold"),
    "TwoThird": ("no", "no", "no", "no", "no (filters)", "0",
                 "one pass, O(votes)"),
    "PlantNet": ("no", "no", "no", "partly", "yes", "1", "O(votes) per iteration"),
    "IWMV": ("no", "no", "no", "yes", "yes", "1", "O(votes) per iteration"),
    "OneCoinDawidSkene": ("no", "no", "no", "yes", "yes", "1",
                          "O(votes K) per iteration"),
    "DiagonalDawidSkene": ("partly", "no", "no", "yes", "partly", "K",
                           "O(votes K) per iteration"),
    "DawidSkene": ("yes", "no", "no", "yes", "partly", "K^2",
                   "O(votes K + workers K^2) per iteration"),
    "WDS": ("yes", "no", "no", "yes", "partly", "K^2",
            "Dawid-Skene's, then one weighted vote"),
    "ClusteredDawidSkene": ("yes (per cluster)", "no", "partly", "yes", "yes",
                            "n_clusters memberships",
                            "O(votes K + workers n_clusters K^2) per iteration"),
    "IBCC": ("yes", "no", "no", "yes", "yes (priors)", "K^2",
             "O(votes K + workers K^2) per iteration"),
    "EBCC": ("yes", "partly (subtypes)", "yes", "yes", "yes (priors)",
             "K^2 n_subtypes",
             "O(votes K n_subtypes) per iteration, times n_init"),
    "BWA": ("partly", "no", "no", "yes", "yes (priors)", "K",
            "O(votes K) per iteration"),
    "GLAD": ("no", "yes", "no", "yes", "partly", "1",
             "O(votes K) per iteration, gradient M-step"),
    "MACE": ("no", "no", "no", "yes", "yes", "1 + K",
             "O(votes K) per iteration, times restarts"),
    "KOS": ("no", "no", "no", "yes", "yes", "1",
            "O(votes) per iteration; two classes only"),
    "MMSR": ("no", "no", "no", "yes", "partly", "1",
             "O(votes + workers^2) per iteration"),
    "ZeroBasedSkill": ("no", "no", "no", "yes", "yes", "1",
                       "O(votes) per iteration"),
}
FACT_COLUMNS = ("per-worker confusion", "task difficulty", "worker correlation",
                "spammers", "few votes per item", "parameters per worker",
                "cost")


def _write(path, text, written):
    """Write ``text`` to ``path`` unless it already holds exactly that."""
    path = Path(path)
    written.add(path.resolve())
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _title(text, char="="):
    return f"{text}\n{char * len(text)}\n"


def _indent(text, prefix="   "):
    return "\n".join(prefix + line if line.strip() else "" for line in
                     text.splitlines())


def _list_table(header, rows, widths=None):
    """An RST list-table."""
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {' '.join(map(str, widths))}")
    lines.append("")
    for row in [header, *rows]:
        for i, cell in enumerate(row):
            text = " ".join(str(cell).split()) or " "
            if text[0] in "-*+" and (len(text) == 1 or text[1] == " "):
                text = "\\" + text  # not a bullet list
            lines.append(f"   {'*' if i == 0 else ' '} - {text}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------
# API reference
def public_modules(messages):
    """Importable public modules, in reference order, as ``{name: module}``.

    A module whose file does not exist is simply absent; one that fails to
    import because an optional third-party package is missing gets a note
    on the API page; any other import error is reported as a problem.
    """
    import skcrowd

    names = list(MODULE_TITLES)
    for info in pkgutil.iter_modules(skcrowd.__path__, prefix="skcrowd."):
        short = info.name.rsplit(".", 1)[1]
        if short.startswith("_") or info.name in NOT_API or info.name in names:
            continue
        names.append(info.name)
    modules, skipped = {}, {}
    package_dir = Path(skcrowd.__file__).parent
    for name in names:
        relative = Path(*name.split(".")[1:])
        if name != "skcrowd" and not (
            (package_dir / relative).with_suffix(".py").exists()
            or (package_dir / relative / "__init__.py").exists()
        ):
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and not exc.name.startswith("skcrowd"):
                skipped[name] = exc.name
                continue
            messages.append(f"cannot import {name}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - reported as a build warning
            messages.append(f"cannot import {name}: {type(exc).__name__}: {exc}")
            continue
        if not hasattr(module, "__all__"):
            messages.append(f"{name} has no __all__: its public names are unknown")
            continue
        modules[name] = module
    return modules, skipped


def _kind(obj):
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return "exception"
    if inspect.isclass(obj):
        return "class"
    if inspect.isroutine(obj):
        return "function"
    return "data"


def _has_examples(obj):
    doc = inspect.getdoc(obj) or ""
    return re.search(r"^\s*Examples\n\s*-{3,}\s*$", doc, re.M) is not None


def api_entries(modules, messages, missing_examples):
    """Every public object, with the name it is documented under and the
    module whose page lists it.

    An object is documented under its shortest public path (``skcrowd.
    DawidSkene``: the name users import, and the one sphinx-gallery links
    example code to) and listed on the page of the deepest module that
    exports it (``skcrowd.aggregation``), so each object gets one page.
    """
    found = {}
    for mod_name, module in modules.items():
        for name in module.__all__:
            if not hasattr(module, name):
                messages.append(f"{mod_name}.__all__ names {name!r}, which does "
                                "not exist")
                continue
            obj = getattr(module, name)
            key = (id(obj), name)
            found.setdefault(key, {"obj": obj, "name": name, "modules": []})
            found[key]["modules"].append(mod_name)
    entries = []
    for item in found.values():
        mods = item["modules"]
        home = min(mods, key=lambda m: (m.count("."), list(modules).index(m)))
        listed = max(mods, key=lambda m: (m.count("."), -list(modules).index(m)))
        kind = _kind(item["obj"])
        full = f"{home}.{item['name']}"
        if kind in ("class", "function") and not _has_examples(item["obj"]):
            missing_examples.append(full)
        entries.append({"name": item["name"], "full": full, "home": home,
                        "listed": listed, "kind": kind, "modules": mods})
    return entries


def _module_page(name, module, entries, title):
    lines = [_title(f"{name}: {title}")]
    lines.append(f".. automodule:: {name}\n   :no-members:\n")
    lines.append(f".. currentmodule:: {name}\n")
    own = [e for e in entries if e["listed"] == name]
    order = {n: i for i, n in enumerate(module.__all__)}
    sections = (("class", "Classes", "class"),
                ("function", "Functions", "function"),
                ("exception", "Exceptions", "exception"),
                ("data", "Constants", "data"))
    for kind, heading, template in sections:
        chosen = sorted((e for e in own if e["kind"] == kind),
                        key=lambda e: order.get(e["name"], 0))
        if not chosen:
            continue
        lines.append(_title(heading, "-"))
        # autosummary prefixes every name with the current module when it
        # writes the stubs: one table per module the names are documented in
        for home in dict.fromkeys(e["home"] for e in chosen):
            lines.append(f".. currentmodule:: {home}\n")
            lines.append(".. autosummary::\n   :toctree: generated/\n"
                         f"   :template: {template}\n")
            lines += [f"   {e['name']}" for e in chosen if e["home"] == home]
            lines.append("")
        lines.append(f".. currentmodule:: {name}\n")
    elsewhere = [e for e in entries if name in e["modules"] and e["listed"] != name]
    if elsewhere:
        role = {"class": "class", "function": "func", "data": "data",
                "exception": "exc"}
        refs = ", ".join(f":{role[e['kind']]}:`~{e['full']}`" for e in elsewhere)
        lines.append(_title("Also importable from here", "-"))
        lines.append(f"``{name}`` re-exports {refs}.\n")
    return "\n".join(lines)


#: Every public path of a documented object -> the name it is documented
#: under (``skcrowd.aggregation.DawidSkene`` -> ``skcrowd.DawidSkene``),
#: filled by :func:`write_api` and read by :func:`resolve_alias`.
ALIASES = {}


def write_api(docs_dir, written, messages, missing_examples):
    """The API pages, their toctree, and the list of documented names."""
    modules, skipped = public_modules(messages)
    entries = api_entries(modules, messages, missing_examples)
    ALIASES.clear()
    for entry in entries:
        for module in entry["modules"]:
            ALIASES[f"{module}.{entry['name']}"] = entry["full"]
    api_dir = docs_dir / "api"
    toc = [".. toctree::", "   :maxdepth: 1", ""]
    for name, module in modules.items():
        title = MODULE_TITLES.get(name) or (
            (module.__doc__ or name).strip().splitlines()[0].rstrip("."))
        _write(api_dir / f"{name}.rst", _module_page(name, module, entries, title),
               written)
        toc.append(f"   api/{name}")
    text = "\n".join(toc) + "\n"
    if skipped:
        text += "\nNot documented in this build (an optional dependency is "
        text += "missing):\n\n" + "\n".join(
            f"* ``{name}`` needs the ``{dep}`` package" for name, dep in
            skipped.items()) + "\n"
    _write(docs_dir / "_generated" / "api_toc.rst", text, written)
    # stubs of names that disappeared would be orphans: keep only current ones
    stub_dir = api_dir / "generated"
    current = {f"{e['full']}.rst" for e in entries}
    if stub_dir.is_dir():
        for stub in stub_dir.glob("*.rst"):
            if stub.name not in current:
                stub.unlink()
    for page in api_dir.glob("*.rst"):
        if page.resolve() not in written:
            page.unlink()
    return entries


# ----------------------------------------------------------------------
# docstring fixes
def _join_continuations(lines):
    """Join lines that end with a backslash, then dedent again, in place.

    A long numpydoc type is often continued with a backslash at the end of
    the line and the rest at column 0, scikit-learn style. Written as ``\\``
    in a non-raw docstring, the backslash and the newline stay in the text:
    the line at column 0 then defeats the docstring's dedent and numpydoc
    sees no sections at all.
    """
    if not any(line.endswith("\\") and not line.endswith("\\\\")
               for line in lines):
        return
    joined = []
    for line in lines:
        if joined and joined[-1].endswith("\\") and not joined[-1].endswith("\\\\"):
            joined[-1] = joined[-1][:-1] + line.lstrip()
        else:
            joined.append(line)
    body = [line for line in joined[1:] if line.strip()]
    margin = min((len(line) - len(line.lstrip()) for line in body), default=0)
    lines[:] = joined[:1] + [line[margin:] for line in joined[1:]]


def skip_sklearn_routing(app, what, name, obj, skip, options):
    """Leave scikit-learn's metadata-routing methods out of class pages.

    ``set_fit_request``, ``set_score_request``... and the inherited
    ``get_metadata_routing`` are generated by scikit-learn for every
    estimator; their docstrings point into scikit-learn's own user guide,
    which this site cannot link to, and they are documented there.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    module = getattr(obj, "__module__", None) or ""
    if name == "get_metadata_routing" and module.startswith("sklearn"):
        return True
    return None


def resolve_alias(app, env, node, contnode):
    """Resolve a Python reference through another public path of its object.

    ``:class:`skcrowd.aggregation.DawidSkene``` (or ``DawidSkene`` under
    ``.. currentmodule:: skcrowd.aggregation``) links to the page of
    ``skcrowd.DawidSkene``, where the class is documented; a bare name that
    only one public object has (``label_quality`` in a docstring of
    ``skcrowd.CrowdLab``) links to that object.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    module = node.get("py:module")
    full = ALIASES.get(target) or ALIASES.get(f"{module}.{target}")
    if full is None and "." not in target:
        # a bare name from a docstring whose object is documented under
        # another module: accept it when exactly one public object has it
        found = {f for f in ALIASES.values() if f.rsplit(".", 1)[-1] == target}
        full = found.pop() if len(found) == 1 else None
    if full is None or full == target:
        return None
    return env.get_domain("py").resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], full, node, contnode)


_PARAM_LINE = re.compile(r"^(?P<head>\s*[\w*][\w*, ]* : )(?P<type>.+)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=[\s,)\]}]|$)")


def escape_type_underscores(app, what, name, obj, options, lines):
    """Escape trailing underscores in numpydoc type strings, in place.

    ``log_likelihood_history_ : ndarray of shape (n_iter_,)`` is a common
    way to document a fitted attribute, but numpydoc copies the type into
    RST unchanged, where ``n_iter_`` is a hyperlink reference to a target
    that does not exist. Runs before numpydoc (``autodoc-process-docstring``
    with a lower priority).
    """
    _join_continuations(lines)
    for i, line in enumerate(lines):
        match = _PARAM_LINE.match(line)
        if match is None or "`" in match["type"]:
            continue
        lines[i] = match["head"] + _TRAILING_UNDERSCORE.sub(r"\\_", match["type"])


# ----------------------------------------------------------------------
# user-guide tables
def write_aggregators(docs_dir, written):
    """The table of aggregators and their assumptions (choosing.rst)."""
    from skcrowd.aggregation import AGGREGATORS

    rows = []
    for key, cls in AGGREGATORS.items():
        facts = AGGREGATOR_FACTS.get(cls.__name__, ("",) * len(FACT_COLUMNS))
        summary = (inspect.getdoc(cls) or "").splitlines()[0].rstrip(".")
        online = "yes" if _safe_has_partial_fit(cls) else "no"
        rows.append([f":class:`~skcrowd.aggregation.{cls.__name__}` "
                     f"(``{key}``)", summary, *facts, online])
    header = ["estimator (CLI name)", "model", *FACT_COLUMNS, "partial_fit"]
    text = _list_table(header, rows, widths=[14, 24, 7, 7, 7, 7, 7, 6, 14, 7])
    _write(docs_dir / "_generated" / "aggregators.rst", text, written)


def write_datasets(docs_dir, written):
    """The shipped datasets with their sizes (formats.rst)."""
    from skcrowd import datasets

    rows = []
    for name in datasets.list_datasets():
        data = datasets.load_dataset(name)
        votes = data.votes
        kind, title = datasets.DATASETS[name]
        rows.append([f"``{name}``", title, kind, votes.n_tasks, votes.n_workers,
                     votes.n_votes, votes.n_classes])
    header = ["name", "description", "kind", "tasks", "workers", "votes",
              "classes"]
    _write(docs_dir / "_generated" / "datasets.rst", _list_table(header, rows),
           written)


def _subparsers(parser):
    import argparse

    for action in parser._actions:  # argparse keeps no public accessor
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def write_cli(docs_dir, written):
    """``--help`` of ``skcrowd`` and of each subcommand, as shown in a
    terminal 88 columns wide."""
    from skcrowd.cli import build_parser

    saved = {k: os.environ.get(k) for k in ("COLUMNS", "NO_COLOR")}
    os.environ["COLUMNS"], os.environ["NO_COLOR"] = "88", "1"
    try:
        parser = build_parser()
        blocks = [("skcrowd --help", parser.format_help())]
        for name, sub in _subparsers(parser).items():
            blocks.append((f"skcrowd {name} --help", sub.format_help()))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    parts = []
    for command, help_text in blocks:
        parts.append(_title(f"``{command}``", "-"))
        parts.append(".. code-block:: text\n\n" + _indent(help_text.rstrip())
                     + "\n")
    _write(docs_dir / "_generated" / "cli.rst", "\n".join(parts), written)


# ----------------------------------------------------------------------
# comparison with other libraries
#: What the peers offer (their documented features), per row of the table.
PEER_FEATURES = {
    "scikit-learn estimators (clone, Pipeline, cross-validation, grid search)":
        ("no: fit on DataFrames", "no: command line and classes",
         "functions"),
    "predict on new tasks with fitted worker parameters":
        ("no", "no", "no"),
    "classification aggregators":
        ("MV, Wawa, DS, one-coin DS, GLAD, MACE, KOS, M-MSR, ZBS and more",
         "MV, NaiveSoft, DS, DSWC, GLAD, WDS, IWMV, PlantNet, TwoThird",
         "CROWDLAB (from a majority vote)"),
    "online learning (batches of votes)":
        ("no", "Dawid-Skene variants", "no"),
    "state shared by processes (MongoDB)": ("no", "-", "no"),
    "CROWDLAB / ActiveLab (votes + classifier)": ("no", "no", "yes"),
    "training a classifier from crowd votes":
        ("CrowdLayer, CoNAL (PyTorch)", "CrowdLayer, CoNAL (PyTorch)",
         "any classifier, on the CROWDLAB consensus"),
    "worker and task identification scores":
        ("agreement metrics (Krippendorff's alpha, uncertainty)",
         "spammer score, confusion trace, AUM, WAUM",
         "annotator and label quality (CROWDLAB)"),
    "crowd simulation": ("no", "yes (simulate command)", "no"),
    "real datasets with gold labels": ("downloaded on first use",
                                       "download scripts", "no"),
    "command line": ("no", "yes", "no"),
    "input formats": ("long DataFrame", "answers.json, dense tensor",
                      "wide matrix with NaN"),
}


def _skcrowd_features():
    """The skcrowd column, read from the installed package."""
    import skcrowd
    from skcrowd.aggregation import AGGREGATORS

    def has(module, name=None):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            return False
        return name is None or hasattr(mod, name)

    online = [cls.__name__ for cls in AGGREGATORS.values()
              if _safe_has_partial_fit(cls)]
    from skcrowd.cli import build_parser

    commands = sorted(_subparsers(build_parser()))
    stores = ["memory"] + (["MongoDB"] if has("skcrowd.stores.mongo") else [])
    return {
        "scikit-learn estimators (clone, Pipeline, cross-validation, grid search)":
            "yes",
        "predict on new tasks with fitted worker parameters": "yes",
        "classification aggregators": f"{len(AGGREGATORS)}: " + ", ".join(
            cls.__name__ for cls in AGGREGATORS.values()),
        "online learning (batches of votes)":
            f"``partial_fit`` on {len(online)} of {len(AGGREGATORS)} aggregators",
        "state shared by processes (MongoDB)":
            "yes" if "MongoDB" in stores else "not yet",
        "CROWDLAB / ActiveLab (votes + classifier)":
            "yes" if has("skcrowd.crowdlab", "CrowdLab") else "not yet",
        "worker and task identification scores":
            f"{len(importlib.import_module('skcrowd.identification').__all__)} "
            "functions" if has("skcrowd.identification") else "not yet",
        "training a classifier from crowd votes":
            "any scikit-learn classifier: " + ", ".join(
                name for name in ("CrowdLab", "LearningFromCrowds")
                if has("skcrowd.crowdlab", name)) + ", soft labels",
        "real datasets with gold labels":
            f"{len(importlib.import_module('skcrowd.datasets').list_datasets())}"
            " shipped in the package, no download",
        "crowd simulation": "yes (``make_crowd``)"
            if has("skcrowd.simulation", "make_crowd") else "not yet",
        "command line": "yes: " + ", ".join(commands),
        "input formats": "long table, wide matrix, dict of dicts, sparse COO "
                         f"(skcrowd {skcrowd.__version__})",
    }


def _safe_has_partial_fit(cls):
    try:
        return hasattr(cls(), "partial_fit")
    except Exception:  # noqa: BLE001 - a class that needs arguments
        return False


def write_features(docs_dir, written):
    ours = _skcrowd_features()
    rows = [[feature, ours.get(feature, "-"), *peers]
            for feature, peers in PEER_FEATURES.items()]
    header = ["", "skcrowd", "Crowd-Kit", "peerannot", "cleanlab"]
    _write(docs_dir / "_generated" / "features.rst",
           _list_table(header, rows, widths=[22, 26, 18, 18, 16]), written)


# ----------------------------------------------------------------------
# benchmarks
def _fmt(value, unit):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "s":
        return f"{value:.3g} s" if value < 100 else f"{value:.0f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "acc":
        return f"{value:.4f}"
    if unit == "votes/s":
        return f"{value / 1e6:.2f} M votes/s"
    return f"{value:g} {unit}"


def benchmark_text(payload):
    """RST for the JSON written by ``benchmarks/run.py --json``."""
    machine = payload.get("machine", {})
    lines = []
    described = ", ".join(
        f"{label} {machine[key]}" for key, label in (
            ("cpu", "CPU"), ("cores", "cores:"), ("mem_total_mb", "RAM (MB):"),
            ("python", "Python"), ("numpy", "numpy"), ("skcrowd", "skcrowd"),
            ("git_commit", "git")) if machine.get(key) is not None)
    load = [machine.get("load_average", [None])[0],
            (payload.get("load_average_end") or [None])[0]]
    load_text = ", ".join(f"{when} {value:.2f}" for when, value in
                          zip(("start", "end"), load, strict=True)
                          if value is not None)
    lines.append(f"Run: ``{payload.get('mode', '?')}`` mode, peers "
                 f"{'measured' if payload.get('peers') else 'not run'}; "
                 f"{described}; 1-minute load average {load_text or 'unknown'}"
                 f"; total {payload.get('seconds_total', float('nan')):.0f} s. "
                 "A load above the number of cores inflates every time.\n")
    rows = []
    for figure in payload.get("figures", []):
        for row in figure.get("rows", []):
            unit = row.get("unit", "")
            ratio = row.get("ratio")
            peer_value = _fmt(row.get("peer_value"), unit)
            if row.get("peer_lower_bound") and peer_value != "-":
                peer_value = "> " + peer_value
            targets = row.get("targets") or []
            target = "; ".join(t.get("text", "") for t in targets)
            oks = [t.get("ok") for t in targets]
            ok = "; ".join("-" if o is None else ("yes" if o else "no")
                           for o in oks) or "-"
            rows.append([row.get("figure", figure.get("figure", "")),
                         _fmt(row.get("value"), unit), row.get("peer") or "-",
                         peer_value,
                         "-" if ratio is None else f"{ratio:.1f}x",
                         target or "-", ok])
    header = ["figure", "skcrowd", "peer", "peer value", "ratio (peer / skcrowd)",
              "target", "met"]
    lines.append(_list_table(header, rows))
    notes = [f"{r.get('figure')}: {r.get('note')}" for f in payload.get("figures", [])
             for r in f.get("rows", []) if r.get("note")]
    notes += list(payload.get("notes", []))
    if notes:
        lines.append("Notes of the run:\n")
        lines += [f"* {' '.join(str(n).split())}" for n in notes]
        lines.append("")
    return "\n".join(lines)


def write_benchmarks(docs_dir, written, messages):
    source = docs_dir / "_generated" / "benchmarks.json"
    if source.exists():
        try:
            payload = json.loads(source.read_text(encoding="utf-8"))
            text = benchmark_text(payload)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            messages.append(f"{source} is not the output of benchmarks/run.py "
                            f"--json: {exc}")
            text = ""
    else:
        text = (".. note::\n\n   No benchmark results in this build. Produce "
                "them (peers included, about 30 minutes on 2 cores) on an idle "
                "machine, then rebuild the documentation::\n\n"
                "      mkdir -p docs/_generated\n"
                "      python benchmarks/run.py --json "
                "docs/_generated/benchmarks.json\n\n   ``--quick`` gives a "
                "smaller run in a few minutes.\n")
    _write(docs_dir / "_generated" / "benchmarks.rst", text, written)


# ----------------------------------------------------------------------
def generate(docs_dir):
    """Write every generated page.

    Returns
    -------
    problems : list of str
        What should fail a ``-W`` build (a module that does not import, a
        name in ``__all__`` that does not exist...).
    missing_examples : list of str
        Public classes and functions whose docstring has no Examples
        section.
    tags : set of str
        Sphinx tags for ``.. only::`` blocks: ``api_<name>`` for every
        documented public name and module, ``has_n_jobs`` when the
        aggregators take ``n_jobs``.
    """
    docs_dir = Path(docs_dir)
    written, messages, missing_examples = set(), [], []
    (docs_dir / "_generated").mkdir(exist_ok=True)
    entries = write_api(docs_dir, written, messages, missing_examples)
    write_aggregators(docs_dir, written)
    write_datasets(docs_dir, written)
    write_cli(docs_dir, written)
    write_features(docs_dir, written)
    write_benchmarks(docs_dir, written, messages)
    tags = {f"api_{e['name']}" for e in entries}
    tags |= {f"api_{m.rsplit('.', 1)[-1]}" for e in entries for m in e["modules"]}
    from skcrowd.aggregation import DawidSkene

    if "n_jobs" in inspect.signature(DawidSkene).parameters:
        tags.add("has_n_jobs")
    return messages, missing_examples, tags
