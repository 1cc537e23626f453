"""skcrowd's speed and memory, beside its peers, in one command.

    python benchmarks/run.py              # everything (about 50 minutes on 2 cores)
    python benchmarks/run.py --quick      # a few minutes: small peer runs
    python benchmarks/run.py --no-peers   # skcrowd only (no crowd-kit)
    python benchmarks/run.py --json results.json --only dawid_skene_1m floor

Prints one table, one row per figure::

    figure | skcrowd | peer | peer value | ratio (peer / skcrowd) | target | ok?

Every skcrowd number is measured now, in a fresh interpreter per figure
(``benchmarks/_measure.py``), after warming numba's JIT on a tiny crowd;
times are the best of 3 fits, memory is the process's peak resident set
(VmHWM, Linux; getrusage elsewhere). Peers are measured in the same run
(crowd-kit in its own virtual environment, ``benchmarks/peers``) or, where
labelled "published", copied from ``BENCHMARKS.md``. Synthetic crowds come
from ``skcrowd.simulation.make_crowd`` (independent confusion-matrix workers,
5 classes, 10 votes per task, seed 0).

Adding a figure: write ``def fig_name(ctx) -> list[Row]`` and decorate it
with ``@figure("name", quick=...)``; it is run in list order, its rows go in
the table and ``ctx.store["name"]`` keeps whatever it wants to share.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _measure import load_average, load_crowd, machine_info, run_child  # noqa: E402
from peers.crowdkit import METHODS as CROWDKIT_METHODS  # noqa: E402
from peers.crowdkit import crowdkit_python, run_crowdkit  # noqa: E402

# ----------------------------------------------------------------------
# targets and published peer numbers
ISSUE2 = "#2"
ISSUE4 = "#4"
ISSUE7 = "#7"
#: crowd-kit 1.4 on a 2-core machine like ours (BENCHMARKS.md).
PUBLISHED = {
    "ds_1m_seconds": 631.0, "ds_1m_mb": 661.0,
    "mv_1m_seconds": 7.6, "mv_1m_mb": 565.0,
    "plain_numpy_ds_1m_seconds": 29.6,
}
#: Synthetic crowds: tasks, workers, classes, votes per task.
CROWDS = {
    "20k": (2_000, 200, 5, 10),
    "200k": (20_000, 500, 5, 10),
    "1M": (100_000, 2_000, 5, 10),
    "10M": (1_000_000, 20_000, 5, 10),
}
SEED = 0
#: DawidSkene-family settings of the headline figures: exactly 100 iterations.
EM_100 = {"max_iter": 100, "tol": 0.0}


# ----------------------------------------------------------------------
# table rows
@dataclass
class Target:
    """``value <= bound`` ("max"), ``value >= bound`` ("min"), ``ratio >=
    bound`` ("ratio") or ``value >= peer_value - bound`` ("peer_minus")."""

    kind: str
    bound: float
    source: str = ""

    def text(self, unit):
        src = f" {self.source}" if self.source else ""
        bound = (f"{self.bound:g} {unit}" if unit in ("s", "MB")
                 else fmt(self.bound, unit))
        if self.kind == "max":
            return f"<= {bound}{src}"
        if self.kind == "min":
            return f">= {bound}{src}"
        if self.kind == "ratio":
            return f"ratio >= {self.bound:g}x{src}"
        return f">= peer - {self.bound:g}{src}"

    def check(self, row):
        if row.value is None:
            return None
        if self.kind == "max":
            return row.value <= self.bound
        if self.kind == "min":
            return row.value >= self.bound
        if self.kind == "ratio":
            r = row.ratio()
            if r is None:
                return None
            return r >= self.bound
        if row.peer_value is None:
            return None
        return row.value >= row.peer_value - self.bound - 1e-12


@dataclass
class Row:
    figure: str
    value: float | None
    unit: str  # "s", "MB", "acc", "votes/s"
    peer: str = ""
    peer_value: float | None = None
    peer_lower_bound: bool = False  # the peer timed out: value is a minimum
    targets: list = field(default_factory=list)
    note: str = ""

    def ratio(self):
        if self.unit == "acc" or self.value in (None, 0) or self.peer_value is None:
            return None
        return self.peer_value / self.value

    def oks(self):
        return [t.check(self) for t in self.targets]

    def as_dict(self):
        out = asdict(self)
        out["targets"] = [
            {**asdict(t), "text": t.text(self.unit), "ok": ok}
            for t, ok in zip(self.targets, self.oks(), strict=True)
        ]
        out["ratio"] = self.ratio()
        return out


def fmt(value, unit):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "s":
        if value >= 100:
            return f"{value:.0f} s"
        if value >= 10:
            return f"{value:.1f} s"
        return f"{value:.3f} s" if value < 1 else f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "acc":
        return f"{value:.4f}"
    if unit == "votes/s":
        if value < 1e5:
            return f"{value / 1e3:.1f}k votes/s"
        return f"{value / 1e6:.2f}M votes/s"
    return f"{value:g} {unit}"


def fmt_ratio(row):
    r = row.ratio()
    if r is None:
        return "-"
    text = f"{r:.1f}x" if r < 100 else f"{r:.0f}x"
    return (">" + text) if row.peer_lower_bound else text


def render_table(rows):
    head = ["figure", "skcrowd", "peer", "peer value", "ratio (peer / skcrowd)",
            "target", "ok?"]
    body = []
    for row in rows:
        oks = row.oks()
        peer_value = fmt(row.peer_value, row.unit)
        if row.peer_lower_bound and row.peer_value is not None:
            peer_value = "> " + peer_value
        body.append([
            row.figure,
            fmt(row.value, row.unit),
            row.peer or "-",
            peer_value if row.peer else "-",
            fmt_ratio(row),
            "; ".join(t.text(row.unit) for t in row.targets) or "-",
            " ".join({True: "yes", False: "NO", None: "?"}[ok] for ok in oks)
            or "-",
        ])
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    right = {1, 3, 4}

    def line(cells):
        return "| " + " | ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ) + " |"

    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in body]
    return "\n".join(out)


# ----------------------------------------------------------------------
# the run context
class Context:
    def __init__(self, quick, peers, budget_seconds, tmpdir, verbose=True):
        self.quick = quick
        self.peers = peers
        self.started = time.perf_counter()
        self.deadline = self.started + budget_seconds
        self.tmpdir = Path(tmpdir)
        self.verbose = verbose
        self.store = {}
        self.raw = {}  # figure name -> list of raw child / peer results
        self.notes = []
        self._crowds = {}
        self._names = None
        self.current = None

    # progress goes to stderr; the table to stdout
    def log(self, msg):
        if self.verbose:
            elapsed = time.perf_counter() - self.started
            print(f"[{elapsed:7.1f} s, load {load_average()[0]:.2f}] {msg}",
                  file=sys.stderr, flush=True)

    def remaining(self):
        return self.deadline - time.perf_counter()

    def note(self, text):
        self.notes.append(f"{self.current}: {text}")
        return len(self.notes)

    def record(self, what, result):
        self.raw.setdefault(self.current, []).append({"what": what, **result})
        return result

    def crowd(self, name):
        """Path of the .npz of a synthetic crowd (made once per run)."""
        if name not in self._crowds:
            n_tasks, n_workers, n_classes, vpt = CROWDS[name]
            path = self.tmpdir / f"crowd_{name}.npz"
            self.log(f"generating the {name}-vote crowd ({n_tasks} tasks, "
                     f"{n_workers} workers, K={n_classes})")
            res = run_child({"kind": "make", "n_tasks": n_tasks,
                             "n_workers": n_workers, "n_classes": n_classes,
                             "votes_per_task": vpt, "random_state": SEED,
                             "path": str(path)}, timeout=600)
            if res.get("error"):
                raise RuntimeError(f"make_crowd {name}: {res['error']}")
            self._crowds[name] = path
        return self._crowds[name]

    def names(self):
        """skcrowd aggregator class name -> {"key", "params"}, at run time."""
        if self._names is None:
            res = run_child({"kind": "names"}, timeout=300)
            if res.get("error"):
                raise RuntimeError(f"listing skcrowd aggregators: {res['error']}")
            self._names = res["aggregators"]
        return self._names

    def fit(self, estimator, crowd, params=None, repeat=3, input="votes",
            timeout=1200):
        """Fit a skcrowd aggregator in a fresh interpreter (best of repeat)."""
        n_tasks, n_workers, n_classes, _ = CROWDS[crowd]
        job = {"kind": "fit", "estimator": estimator, "params": params or {},
               "path": str(self.crowd(crowd)), "n_workers": n_workers,
               "n_classes": n_classes, "repeat": repeat, "input": input}
        self.log(f"skcrowd {estimator}{params or ''} on {crowd} votes "
                 f"({input}), best of {repeat}")
        res = run_child(job, timeout=timeout)
        self.record(f"skcrowd {estimator} {crowd} {input}", res)
        if res.get("error"):
            self.log(f"  error: {res['error']}")
        else:
            self.log(f"  {res['seconds']:.3f} s (times "
                     f"{', '.join(f'{t:.3f}' for t in res['times'])}), peak "
                     f"{res['peak_mb']:.0f} MB, accuracy {res['accuracy']:.4f}")
        return res


FIGURES = []


def figure(name, quick=True, peers=False):
    """Register a figure function: ``fn(ctx) -> list[Row]``.

    ``quick=False``: skipped by ``--quick``. ``peers=True``: the figure
    measures peers (it still runs under ``--no-peers`` and must check
    ``ctx.peers`` itself).
    """
    def deco(fn):
        fn.figure_name, fn.in_quick, fn.uses_peers = name, quick, peers
        FIGURES.append(fn)
        return fn
    return deco


def _error_row(figure_name, error, unit="s"):
    return Row(figure_name, None, unit, note=f"error: {error}")


def _memory_rows(label, res, targets=(), peer="", peer_value=None):
    """Peak memory of a fit, and the same above the import baseline."""
    base = res.get("baseline_mb")
    rows = [Row(f"{label}: peak memory", res.get("peak_mb"), "MB", peer=peer,
                peer_value=peer_value, targets=list(targets),
                note=(f"raw peak RSS of the process (ru_maxrss "
                      f"{res.get('ru_maxrss_mb', float('nan')):.0f} MB); "
                      f"interpreter with numpy+skcrowd imported: {base:.0f} MB"
                      if base is not None else ""))]
    if base is not None and res.get("peak_mb") is not None:
        rows.append(Row(f"{label}: memory above import baseline",
                        res["peak_mb"] - base, "MB"))
    return rows


# ----------------------------------------------------------------------
# figures
@figure("first_call")
def fig_first_call(ctx):
    """numba compile / cache-load cost of a fresh interpreter's first fit."""
    rows = []
    cache = tempfile.mkdtemp(prefix="numba-cold-", dir=ctx.tmpdir)
    for label, env in (("empty numba cache (compiles)", {"NUMBA_CACHE_DIR": cache}),
                       ("numba on-disk cache", {})):
        ctx.log(f"first DawidSkene fit in a fresh interpreter, {label}")
        res = ctx.record(label, run_child(
            {"kind": "first_call", "estimator": "DawidSkene",
             "params": {"max_iter": 10, "tol": 0.0}}, timeout=600, env=env))
        if res.get("error"):
            rows.append(_error_row(f"first fit, {label}", res["error"]))
            continue
        if not env:
            rows.append(Row("import skcrowd (fresh interpreter)",
                            res["import_seconds"], "s",
                            note="import skcrowd, skcrowd.aggregation"))
        rows.append(Row(
            f"first DawidSkene fit, {label}", res["first_seconds"], "s",
            note=(f"tiny crowd (1,000 votes), 10 iterations; the second fit "
                  f"takes {res['second_seconds'] * 1e3:.1f} ms")))
    return rows


@figure("dawid_skene_1m")
def fig_dawid_skene_1m(ctx):
    """Headline: DawidSkene, 100 iterations, 1M votes (issues 2 and 7)."""
    label = "DawidSkene 1M votes, 100 it"
    res = ctx.fit("DawidSkene", "1M", EM_100)
    ctx.store["dawid_skene_1m"] = res
    if res.get("error"):
        return [_error_row(label, res["error"])]
    peer = "crowd-kit 1.4 (published)"
    note = (f"2,000 workers, K=5, 100k tasks, tol=0: n_iter_={res['n_iter']}; "
            f"accuracy {res['accuracy']:.4f}")
    rows = [Row(f"{label}: time", res["seconds"], "s", peer=peer,
                peer_value=PUBLISHED["ds_1m_seconds"], note=note,
                targets=[Target("max", 1.5, ISSUE2), Target("max", 0.5, ISSUE7)])]
    rows += _memory_rows(label, res, peer=peer, peer_value=PUBLISHED["ds_1m_mb"],
                         targets=[Target("max", 500, ISSUE2),
                                  Target("max", 400, ISSUE7)])
    return rows


@figure("one_coin_1m", quick=False)
def fig_one_coin_1m(ctx):
    """OneCoinDawidSkene, 100 iterations, 1M votes (issue 7)."""
    label = "OneCoinDawidSkene 1M votes, 100 it"
    res = ctx.fit("OneCoinDawidSkene", "1M", EM_100)
    if res.get("error"):
        return [_error_row(label, res["error"])]
    rows = [Row(f"{label}: time", res["seconds"], "s",
                targets=[Target("max", 0.5, ISSUE7)],
                note=f"n_iter_={res['n_iter']}; accuracy {res['accuracy']:.4f}")]
    rows += _memory_rows(label, res, targets=[Target("max", 400, ISSUE7)])
    return rows


@figure("majority_vote_1m", peers=True)
def fig_majority_vote_1m(ctx):
    """MajorityVote on 1M votes (issue 2: <= 0.2 s)."""
    label = "MajorityVote 1M votes"
    res = ctx.fit("MajorityVote", "1M")
    if res.get("error"):
        return [_error_row(label, res["error"])]
    rows = [Row(f"{label}: time", res["seconds"], "s",
                peer="crowd-kit 1.4 (published)",
                peer_value=PUBLISHED["mv_1m_seconds"],
                targets=[Target("max", 0.2, ISSUE2)],
                note=f"accuracy {res['accuracy']:.4f}")]
    if ctx.peers and not ctx.quick:
        task, worker, lab, y_true = load_crowd(ctx.crowd("1M"))
        ctx.log("crowd-kit MajorityVote on 1M votes")
        ck = ctx.record("crowd-kit MajorityVote 1M", run_crowdkit(
            task, worker, lab, "MajorityVote",
            timeout=max(30.0, min(300.0, ctx.remaining())), mem_limit_mb=8000))
        ck.pop("labels", None)
        if ck.get("error"):
            rows.append(Row(f"{label}: time", res["seconds"], "s",
                            peer="crowd-kit (measured now)",
                            note=f"crowd-kit: {ck['error']}"))
        else:
            rows.append(Row(f"{label}: time", res["seconds"], "s",
                            peer="crowd-kit (measured now)",
                            peer_value=ck["seconds"]))
            rows += _memory_rows(label, res, peer="crowd-kit (measured now)",
                                 peer_value=ck["peak_mb"])[:1]
            rows[-1].note += (f"; crowd-kit's peak includes pandas and its "
                              f"{ck.get('rss_before_mb', 0):.0f} MB interpreter")
            return rows
    rows += _memory_rows(label, res, peer="crowd-kit 1.4 (published)",
                         peer_value=PUBLISHED["mv_1m_mb"])[:1]
    return rows


@figure("dawid_skene_1m_dataframe", quick=False)
def fig_dawid_skene_dataframe(ctx):
    """The same fit from a long pandas DataFrame, conversion included."""
    label = "DawidSkene 1M votes from a DataFrame, 100 it"
    res = ctx.fit("DawidSkene", "1M", EM_100, input="dataframe")
    if res.get("error"):
        return [_error_row(label, res["error"])]
    return [Row(f"{label}: time", res["seconds"], "s",
                peer="crowd-kit 1.4 (published)",
                peer_value=PUBLISHED["ds_1m_seconds"],
                note="includes as_votes(DataFrame), as crowd-kit's "
                     "fit_predict(DataFrame) does")]


@figure("floor")
def fig_floor(ctx):
    """The plain two-sparse-products Dawid-Skene on the same 1M votes."""
    label = "DawidSkene 1M, 100 it vs plain scipy.sparse EM"
    ours = ctx.store.get("dawid_skene_1m") or ctx.fit("DawidSkene", "1M", EM_100)
    n_tasks, n_workers, n_classes, _ = CROWDS["1M"]
    repeat = 1 if ctx.quick else 3
    ctx.log(f"plain scipy.sparse Dawid-Skene on 1M votes, best of {repeat}")
    res = ctx.record("floor", run_child(
        {"kind": "floor", "path": str(ctx.crowd("1M")), "n_workers": n_workers,
         "n_classes": n_classes, "n_iter": 100, "repeat": repeat}, timeout=1200))
    if res.get("error"):
        return [_error_row(label, res["error"])]
    ctx.log(f"  {res['seconds']:.3f} s, peak {res['peak_mb']:.0f} MB, accuracy "
            f"{res['accuracy']:.4f}")
    peer = "plain numpy+scipy.sparse DS"
    if ours.get("error"):
        return [Row(f"{label}: time", None, "s", peer=peer,
                    peer_value=res["seconds"], note=f"skcrowd: {ours['error']}")]
    return [
        Row(f"{label}: time", ours["seconds"], "s", peer=peer,
            peer_value=res["seconds"], targets=[Target("ratio", 1.0)],
            note=(f"benchmarks/_measure.py:plain_dawid_skene, 2 sparse products "
                  f"per iteration, peak {res['peak_mb']:.0f} MB (best of "
                  f"{repeat}); BENCHMARKS.md: a plain numpy DS took "
                  f"{PUBLISHED['plain_numpy_ds_1m_seconds']} s, issue 2: "
                  f"~1.5 s for two sparse products")),
        Row(f"{label}: accuracy", ours["accuracy"], "acc", peer=peer,
            peer_value=res["accuracy"], targets=[Target("peer_minus", 0.005)]),
    ]


@figure("partial_fit")
def fig_partial_fit(ctx):
    """In-memory partial_fit throughput (issue 7: >= 5M votes/s)."""
    n_tasks, n_workers, n_classes, _ = CROWDS["1M"]
    targets = [Target("min", 1e6, ISSUE4), Target("min", 5e6, ISSUE7)]
    rows = []
    # a labeling app's small batches, then bulk batches: the cost of a batch
    # is a fixed part (the M-step of the batch's workers, here nearly all
    # 2,000 of them) plus a part per vote
    for batch_tasks in (1_000, 10_000):
        batch_votes = batch_tasks * 10
        label = f"DawidSkene.partial_fit 1M votes, {batch_votes // 1000}k-vote batches"
        ctx.log(f"DawidSkene.partial_fit over 1M votes in batches of "
                f"{batch_votes:,} votes")
        res = ctx.record(f"partial_fit_{batch_tasks}", run_child(
            {"kind": "partial_fit", "estimator": "DawidSkene",
             "path": str(ctx.crowd("1M")), "n_workers": n_workers,
             "n_classes": n_classes, "batch_tasks": batch_tasks,
             "repeat": 1 if ctx.quick else 3},
            timeout=900))
        if res.get("error"):
            rows.append(_error_row(label, res["error"], "votes/s"))
            continue
        if res.get("skipped"):
            rows.append(Row(label, None, "votes/s", targets=targets,
                            note=f"not measured: {res['skipped']}"))
            continue
        rows.append(Row(label, res["votes_per_second"], "votes/s", targets=targets,
                        note=(f"{res['n_batches']} batches of {batch_tasks:,} "
                              f"tasks, in-memory store; best of "
                              f"{len(res['times'])}")))
    return rows


def _script_json(ctx, script, args, timeout):
    """Run ``benchmarks/<script>`` in a fresh interpreter; its JSON output."""
    import subprocess

    try:
        done = subprocess.run([sys.executable, str(HERE / script), *args],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip()[-300:]}
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"no JSON from {script}: {done.stdout[-200:]}"}


@figure("online_stores")
def fig_online_stores(ctx):
    """partial_fit into memory and into MongoDB (benchmarks/online_speed.py)."""
    import re
    import subprocess

    args = ["--only", "memory", "mongodb"] + (["--quick"] if ctx.quick else [])
    ctx.log("benchmarks/online_speed.py " + " ".join(args))
    try:
        done = subprocess.run([sys.executable, str(HERE / "online_speed.py"), *args],
                              capture_output=True, text=True, timeout=1800)
        out = done.stdout
    except subprocess.TimeoutExpired:
        return [_error_row("partial_fit, memory and MongoDB", "timed out", "votes/s")]
    rows = []
    section = ""
    for line in out.splitlines():
        if line.startswith("[memory]"):
            section = "memory"
        elif line.startswith("[mongodb]"):
            section = "MongoDB " + ("(MONGODB_URI)" if "MONGODB_URI" in line
                                    else "test server")
        found = re.search(r"^\s*(.*?): ([\d,]+) votes/s", line)
        if not found or "commands" in line:
            continue
        what, value = found.group(1), float(found.group(2).replace(",", ""))
        if section == "memory":
            rows.append(Row(f"DawidSkene {what}, memory, 10k-vote batches", value,
                            "votes/s", targets=[Target("min", 1e6, ISSUE4)],
                            note=line.split("votes/s", 1)[1].strip(" ;(")[:150]))
        else:
            rows.append(Row(f"DawidSkene partial_fit, {section}, {what}", value,
                            "votes/s", targets=[Target("min", 2e4, ISSUE4)]))
    if not rows:
        return [_error_row("partial_fit, memory and MongoDB",
                           (done.stderr or out).strip()[-200:], "votes/s")]
    return rows


@figure("streaming")
def fig_streaming(ctx):
    """100M votes (2M with --quick) through partial_fit with worker slots."""
    label = "Streaming DawidSkene.partial_fit"
    args = ["--json"] + (["--quick"] if ctx.quick else [])
    ctx.log("benchmarks/streaming.py " + " ".join(args))
    res = ctx.record("streaming", _script_json(ctx, "streaming.py", args, 3600))
    if res.get("error"):
        return [_error_row(label, res["error"], "votes/s")]
    label = f"{label}, {res['votes'] / 1e6:.0f}M votes"
    note = (f"n_worker_slots={res['n_worker_slots']}, MemoryStore(max_tasks="
            f"{res['max_tasks']:,}), {res['votes_per_cpu_s']:,.0f} votes per CPU "
            f"second; accuracy of the held tasks {res['window_accuracy']:.4f}")
    return [Row(f"{label}: throughput", res["votes_per_s"], "votes/s",
                targets=[Target("min", 1e6, ISSUE7)], note=note),
            Row(f"{label}: peak memory", res["peak_rss_mb"], "MB",
                targets=[Target("max", 1024, ISSUE7)],
                note="VmHWM of the streaming process, imports included")]


@figure("crowdlab", peers=True)
def fig_crowdlab(ctx):
    """CROWDLAB label_quality vs cleanlab, via benchmarks/crowdlab_speed.py.

    Uses that script's crowd (``make_crowd``) and its skcrowd measurement
    (``run_skcrowd``: fresh subprocess, best of 3), and cleanlab through
    ``peers/cleanlab.py``. If the script defines ``benchmark_rows(quick,
    peers)`` (a list of dicts with the fields of :class:`Row`), that is used
    instead.
    """
    label0 = "CROWDLAB label quality vs cleanlab"
    path = HERE / "crowdlab_speed.py"
    if not path.exists():
        return [Row(label0, None, "s", targets=[Target("ratio", 15, ISSUE7)],
                    note="not measured: benchmarks/crowdlab_speed.py is absent")]
    spec = importlib.util.spec_from_file_location("crowdlab_speed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    hook = getattr(module, "benchmark_rows", None)
    if hook is not None:
        rows = []
        for item in hook(quick=ctx.quick, peers=ctx.peers):
            if not isinstance(item, Row):
                item = dict(item)
                item["targets"] = [t if isinstance(t, Target) else Target(**t)
                                   for t in item.get("targets", [])]
                item = Row(**item)
            rows.append(item)
        return rows
    if not all(hasattr(module, f) for f in ("make_crowd", "run_skcrowd")):
        return [Row(label0, None, "s", note="not measured: crowdlab_speed.py has "
                    "neither benchmark_rows nor make_crowd + run_skcrowd")]
    from peers.cleanlab import cleanlab_python, run_cleanlab

    n_items, base, per_item, n_classes = (5_000 if ctx.quick else 50_000), 200, 5, 5
    annotators = [base] if ctx.quick else [base, 1000]
    task, worker, lab, probs, truth = module.make_crowd(n_items, base, per_item,
                                                        n_classes)
    peer_ok = ctx.peers and cleanlab_python().exists()
    if ctx.peers and not peer_ok:
        ctx.note(f"cleanlab not measured: {cleanlab_python()} is missing (run "
                 "bash benchmarks/peers/setup_cleanlab_env.sh)")
    ctx.note(f"{n_items:,} items, {len(task):,} votes, K={n_classes}, "
             "precomputed probabilities; skcrowd label_quality(calibrate=False, "
             "n_iter=1) on Votes (best of 3) vs cleanlab "
             "get_label_quality_multiannotator (one run), each in a fresh "
             "process; the same votes spread over more annotators")
    rng = np.random.default_rng(1)
    rows = []
    for n_ann in annotators:
        factor = max(n_ann // base, 1)
        spread = worker + base * rng.integers(0, factor, len(worker))
        crowd = ctx.tmpdir / f"crowdlab_{n_ann}.npz"
        np.savez(crowd, task=task, worker=spread, label=lab, pred_probs=probs,
                 n_tasks=n_items, n_workers=base * factor)
        label = f"CROWDLAB {n_items // 1000}k items x {n_ann} annotators"
        ctx.log(f"skcrowd label_quality, {n_items} items x {n_ann} annotators")
        mine = module.run_skcrowd(str(crowd), "votes", 3)
        consensus = mine.pop("consensus_label", None)
        ctx.record(f"skcrowd {label}", mine)
        if mine.get("error"):
            rows.append(_error_row(label, f"skcrowd: {mine['error']}"))
            continue
        acc = float(np.mean(np.asarray(consensus) == truth))
        if not peer_ok:
            rows.append(Row(f"{label}: time", mine["seconds"], "s",
                            note=f"accuracy {acc:.4f}"))
            continue
        ctx.log(f"cleanlab, {n_items} items x {n_ann} annotators")
        cl = run_cleanlab(task, spread, lab, probs, n_tasks=n_items,
                          n_workers=base * factor, repeat=1,
                          timeout=max(30.0, min(600.0, ctx.remaining() - 60)),
                          mem_limit_mb=16000)
        theirs = cl.pop("consensus_label", None)
        ctx.record(f"cleanlab {label}", {k: v for k, v in cl.items()
                                         if not isinstance(v, list)})
        peer = f"cleanlab {cl.get('cleanlab_version') or ''}".strip()
        if cl.get("error"):
            timed_out = cl["error"].startswith("Timeout")
            rows.append(Row(f"{label}: time", mine["seconds"], "s", peer=peer,
                            peer_value=None, targets=[Target("ratio", 15, ISSUE7)],
                            note=f"cleanlab: {cl['error'][:160]}"
                                 + (" (lower bound)" if timed_out else "")))
            continue
        theirs = np.asarray(theirs)
        rows += [
            Row(f"{label}: time", mine["seconds"], "s", peer=peer,
                peer_value=cl["seconds"], targets=[Target("ratio", 15, ISSUE7)]),
            Row(f"{label}: peak memory", mine["peak_mb"], "MB", peer=peer,
                peer_value=cl["peak_mb"],
                note="whole process (interpreter, libraries, input)"),
            Row(f"{label}: accuracy", acc, "acc", peer=peer,
                peer_value=float(np.mean(theirs == truth)),
                targets=[Target("peer_minus", 0.005)],
                note=f"same consensus on "
                     f"{np.mean(theirs == np.asarray(consensus)):.2%} of items"),
        ]
    return rows


@figure("dask")
def fig_dask(ctx):
    """DawidSkene on a 2-worker Dask LocalCluster vs the local fit
    (benchmarks/dask_speed.py: 10M votes, 1M with --quick)."""
    label = "DawidSkene on a 2-worker Dask LocalCluster"
    if importlib.util.find_spec("distributed") is None:
        return [Row(label, None, "s", note="not measured: install skcrowd[dask]")]
    args = ["--json"] + (["--quick"] if ctx.quick else [])
    ctx.log("benchmarks/dask_speed.py " + " ".join(args))
    res = ctx.record("dask", _script_json(ctx, "dask_speed.py", args, 3600))
    if res.get("error"):
        return [_error_row(label, res["error"])]
    label = (f"DawidSkene {res['n_votes'] / 1e6:.0f}M votes, {res['n_iter']} it, "
             f"Dask 2 workers")
    return [Row(f"{label}: time", res["dask_seconds"], "s",
                peer="skcrowd local fit (same run)", peer_value=res["local_seconds"],
                note=(f"overhead {res['overhead_ratio']:.2f}x the local fit; "
                      f"largest parameter difference "
                      f"{res['max_abs_diff_params']:.1e} (issue 7: local result "
                      f"to 1e-8); cluster start {res['cluster_start_seconds']:.1f} s "
                      f"and persisting the votes {res['persist_seconds']:.1f} s "
                      f"not included"))]


# crowd-kit comparison ---------------------------------------------------
#: Iterations per method (full run, quick run), crowd-kit-only constructor
#: arguments, and the longest a crowd-kit run may take (seconds; full run,
#: quick run). crowd-kit's iterative models are slow (at 200k votes, per
#: iteration on 2 idle cores: DawidSkene ~0.08 s, OneCoinDawidSkene ~0.3 s,
#: MACE and ZeroBasedSkill ~0.1 s, GLAD ~16 s; up to three times as long on
#: slower days), hence fewer iterations for some; both libraries always
#: run the same count. crowd-kit's MMSR
#: builds a dense (n, n) matrix and raises MemoryError at these sizes.
#: Ordered by importance: when the budget runs short the last ones get
#: shorter timeouts.
#: crowd-kit is timed as the best of ``ck_repeat`` fits (as skcrowd is, of 3)
#: where one fit takes seconds, once where it takes tens of seconds.
CK_SPECS = {
    "MajorityVote": {"n_iter": (None, None), "cap": (120, 60), "ck_repeat": 3},
    "Wawa": {"n_iter": (None, None), "cap": (120, 60), "ck_repeat": 3},
    "DawidSkene": {"n_iter": (100, 10), "cap": (360, 60), "ck_repeat": 3},
    "OneCoinDawidSkene": {"n_iter": (50, 5), "cap": (360, 60)},
    "ZeroBasedSkill": {"n_iter": (20, 5), "cap": (300, 60), "ck_repeat": 3},
    "MACE": {"n_iter": (20, 5), "cap": (300, 60), "ck_repeat": 3,
             "ck_params": {"n_restarts": 1}},
    "MMSR": {"n_iter": (100, 10), "cap": (240, 30)},
    "GLAD": {"n_iter": (5, 1), "cap": (900, 30)},
}


def _skcrowd_params(info, n_iter, ck_params):
    """skcrowd hyperparameters giving the same number of iterations."""
    names = set(info["params"])
    params = {}
    if n_iter is not None and "max_iter" in names:
        params["max_iter"] = n_iter
        if "tol" in names:
            params["tol"] = 0.0
    for key, value in (ck_params or {}).items():
        if key in names:
            params[key] = value
    return params


@figure("crowdkit", peers=True)
def fig_crowdkit(ctx):
    """Every aggregator skcrowd and crowd-kit both have, same iterations."""
    crowd = "20k" if ctx.quick else "200k"
    names = ctx.names()
    common = [m for m in CK_SPECS if m in names]
    missing = [m for m in CROWDKIT_METHODS if m not in names]
    if missing:
        ctx.note(f"crowd-kit methods skcrowd does not have (yet): "
                 f"{', '.join(missing)}")
    peer_ok = ctx.peers and crowdkit_python().exists()
    if ctx.peers and not peer_ok:
        ctx.note(f"crowd-kit not measured: {crowdkit_python()} is missing "
                 "(run bash benchmarks/peers/setup_envs.sh)")
    task, worker, lab, y_true = load_crowd(ctx.crowd(crowd))
    if peer_ok:
        ctx.note("both libraries fit the same long DataFrame (task, worker, "
                 "label) with the same iteration count and early stopping off, "
                 "each in its own fresh interpreter; skcrowd is timed as the "
                 "best of 3 fits, crowd-kit (fit_predict) as the best of 3 too "
                 "but for OneCoinDawidSkene and GLAD (one fit: tens of seconds)")
    rows = []
    for i, method in enumerate(common):
        spec = CK_SPECS[method]
        n_iter = spec["n_iter"][1 if ctx.quick else 0]
        ck_params = spec.get("ck_params")
        params = _skcrowd_params(names[method], n_iter, ck_params)
        it = "" if n_iter is None else f", {n_iter} it"
        label = f"{method} {crowd} votes{it}"
        ours = ctx.fit(method, crowd, params, input="dataframe", timeout=900)
        if ours.get("error"):
            rows.append(_error_row(label, f"skcrowd: {ours['error']}"))
            continue
        extra = ""
        if ck_params:
            extra = "; crowd-kit " + ", ".join(f"{k}={v}" for k, v in ck_params.items())
        if n_iter is not None and "max_iter" not in params:
            extra += "; skcrowd has no max_iter: its own iteration count"
        if not peer_ok:
            rows.append(Row(f"{label}: time", ours["seconds"], "s",
                            note=f"accuracy {ours['accuracy']:.4f}{extra}"))
            continue
        left = len(common) - i - 1
        timeout = min(spec["cap"][1 if ctx.quick else 0],
                      ctx.remaining() - 15 * left)
        if timeout < 20:
            rows.append(Row(f"{label}: time", ours["seconds"], "s",
                            note=f"crowd-kit skipped: the time budget is spent; "
                                 f"skcrowd accuracy {ours['accuracy']:.4f}"))
            continue
        ctx.log(f"crowd-kit {method} on {crowd} votes{it} (timeout {timeout:.0f} s)")
        ck = ctx.record(f"crowd-kit {method} {crowd}", run_crowdkit(
            task, worker, lab, method, n_iter, timeout=timeout,
            repeat=spec.get("ck_repeat", 1), params=ck_params, mem_limit_mb=8000))
        labels = ck.pop("labels", None)
        peer = "crowd-kit (measured now)"
        targets = [Target("ratio", 100, ISSUE7)]
        if ck.get("error"):
            timed_out = ck["error"].startswith("Timeout")
            ctx.log(f"  crowd-kit: {ck['error']}")
            rows.append(Row(f"{label}: time", ours["seconds"], "s", peer=peer,
                            peer_value=timeout if timed_out else None,
                            peer_lower_bound=timed_out, targets=targets,
                            note=f"crowd-kit: {ck['error'][:160]}{extra}"))
            rows.append(Row(f"{label}: accuracy", ours["accuracy"], "acc"))
            continue
        ck_acc = float(np.mean(np.asarray(labels) == y_true))
        ctx.log(f"  crowd-kit {ck['seconds']:.2f} s, peak {ck['peak_mb']:.0f} MB, "
                f"accuracy {ck_acc:.4f}")
        rows.append(Row(f"{label}: time", ours["seconds"], "s", peer=peer,
                        peer_value=ck["seconds"], targets=targets,
                        note=extra.lstrip("; ")))
        rows.append(Row(f"{label}: accuracy", ours["accuracy"], "acc", peer=peer,
                        peer_value=ck_acc, targets=[Target("peer_minus", 0.005)]))
        ds_1m = ctx.store.get("dawid_skene_1m") or {}
        if (method == "DawidSkene" and crowd == "200k" and n_iter == 100
                and ds_1m.get("seconds")):
            rows.append(Row(
                "DawidSkene 1M votes, 100 it: time", ds_1m["seconds"], "s",
                peer="crowd-kit 200k now x5 (est.)", peer_value=5 * ck["seconds"],
                note="crowd-kit's 200k time measured now, times 5 (its cost is "
                     "about linear in the votes: published 110.6 s at 200k, "
                     "631 s at 1M)"))
    return rows


@figure("dawid_skene_10m", quick=False)
def fig_dawid_skene_10m(ctx):
    """skcrowd alone at 10M votes (issue 7); last, if budget is left."""
    label = "DawidSkene 10M votes, 100 it"
    if ctx.remaining() < 600:
        return [_error_row(label, "skipped: less than 10 minutes of budget left")]
    res = ctx.fit("DawidSkene", "10M", EM_100, repeat=1,
                  timeout=max(60.0, ctx.remaining() - 30))
    if res.get("error"):
        return [_error_row(label, res["error"])]
    per_it = res["seconds"] / max(res["n_iter"] or 100, 1)
    rows = [Row(f"{label}: time", res["seconds"], "s",
                note=(f"20,000 workers, 1M tasks, one fit; "
                      f"{1e7 / per_it / 1e6:.1f}M votes/s per EM iteration; "
                      f"accuracy {res['accuracy']:.4f}"))]
    return rows + _memory_rows(label, res)[:1]


# ----------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(
        description="skcrowd speed and memory beside its peers, one table.")
    ap.add_argument("--quick", action="store_true",
                    help="small peer runs, fewer figures (a few minutes)")
    ap.add_argument("--no-peers", action="store_true",
                    help="skcrowd only: do not run crowd-kit or cleanlab")
    ap.add_argument("--json", metavar="PATH", help="also write the results here")
    ap.add_argument("--only", nargs="+", metavar="FIGURE",
                    help="run only these figures (see --list)")
    ap.add_argument("--list", action="store_true", help="list the figures")
    ap.add_argument("--budget-minutes", type=float, default=50.0,
                    help="wall-clock budget; slow peer runs get shorter "
                         "timeouts as it runs out (default 50)")
    args = ap.parse_args(argv)
    if args.list:
        for fn in FIGURES:
            doc = (fn.__doc__ or "").strip().splitlines()
            flags = "" if fn.in_quick else "  (full run only)"
            print(f"{fn.figure_name:26s} {doc[0] if doc else ''}{flags}")
        return 0
    chosen = [fn for fn in FIGURES
              if (args.only is None and (fn.in_quick or not args.quick))
              or (args.only is not None and fn.figure_name in args.only)]
    if args.only:
        unknown = set(args.only) - {fn.figure_name for fn in FIGURES}
        if unknown:
            ap.error(f"unknown figure(s) {sorted(unknown)}; see --list")

    info = machine_info()
    mode = "quick" if args.quick else "full"
    print(f"skcrowd benchmarks ({mode} run{', no peers' if args.no_peers else ''})")
    print(f"machine: {info['cpu']}, {info['cores']} cores "
          f"({info['cores_usable']} usable), {info['mem_total_mb']} MB RAM")
    print(f"python {info['python']}, numpy {info['numpy']}, scipy "
          f"{info['scipy']}, numba {info['numba']}, scikit-learn "
          f"{info['scikit-learn']}, skcrowd {info['skcrowd']} "
          f"(git {info['git_commit']})")
    load = info["load_average"]
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if load[0] > 0.5:
        print(f"WARNING: the machine is busy (1-minute load {load[0]:.2f} > 0.5 "
              f"on {info['cores']} cores): times are inflated and noisy.")
    sys.stdout.flush()

    tmpdir = tempfile.mkdtemp(prefix="skcrowd-bench-")
    ctx = Context(args.quick, not args.no_peers, args.budget_minutes * 60, tmpdir)
    results = []
    rows = []
    try:
        for fn in chosen:
            ctx.current = fn.figure_name
            tic = time.perf_counter()
            try:
                fig_rows = fn(ctx)
            except Exception as exc:  # noqa: BLE001 - one figure never kills all
                fig_rows = [_error_row(fn.figure_name, f"{type(exc).__name__}: {exc}")]
            rows += fig_rows
            results.append({"figure": fn.figure_name,
                            "seconds": time.perf_counter() - tic,
                            "rows": [r.as_dict() for r in fig_rows],
                            "raw": ctx.raw.get(fn.figure_name, [])})
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)

    total = time.perf_counter() - ctx.started
    load_end = load_average()
    print()
    print(render_table(rows))
    print()
    notes = [f"{r.figure}: {r.note}" for r in rows if r.note] + ctx.notes
    if notes:
        print("notes:")
        for text in notes:
            print(f"  - {text}")
    print(f"targets: {ISSUE2} = issue 2 (foundation), {ISSUE4} = issue 4 "
          f"(online), {ISSUE7} = issue 7 "
          "(scale); ratio = peer / skcrowd (higher is better for skcrowd); "
          "'> ' = the peer hit its timeout.")
    print(f"load average at end: {load_end[0]:.2f} {load_end[1]:.2f} "
          f"{load_end[2]:.2f}; total {total:.0f} s")

    if args.json:
        payload = {"mode": mode, "peers": not args.no_peers, "machine": info,
                   "load_average_end": [round(x, 2) for x in load_end],
                   "seconds_total": total, "figures": results,
                   "notes": ctx.notes, "crowds": CROWDS, "seed": SEED,
                   "published": PUBLISHED}
        Path(args.json).write_text(json.dumps(payload, indent=2, default=float))
        print(f"results written to {args.json}")
    return 0  # a missed target is a finding, reported in the table


if __name__ == "__main__":
    sys.exit(main())
