"""Real crowdsourcing datasets with gold labels, shipped with the package.

Every dataset is read from files inside the package; no loader touches the
network. ``list_datasets()`` names them, ``load_dataset(name)`` or the
``load_<name>()`` functions load one.
"""

import csv
import gzip
import io
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from .._votes import Votes, _object_array, labels_from_strings

__all__ = ["list_datasets", "load_dataset"]

DATASETS = {
    # name: (kind, short description)
    "act_cf": ("multiclass", "CrowdFlower weather sentiment (ActiveCrowdToolkit CF)"),
    "act_cf_amt": ("multiclass", "weather sentiment on Amazon Mechanical Turk"),
    "act_sp": ("binary", "sentence polarity, Rodrigues et al. (SP)"),
    "act_sp_amt": ("binary", "sentence polarity on Amazon Mechanical Turk"),
    "act_zc_all": ("binary", "ZenCrowd entity linking, all workers"),
    "act_zc_us": ("binary", "ZenCrowd entity linking, US workers"),
    "gal_bm": ("binary", "Get-Another-Label BM dataset"),
    "rodrigues_labelme": ("multiclass", "LabelMe image classes, Rodrigues et al."),
    "snow_rte": ("binary", "recognising textual entailment, Snow et al. 2008"),
    "welinder_bluebirds": ("binary", "bluebird species, Welinder et al. 2010"),
    "zheng_dog": ("multiclass", "dog breeds (Zheng et al. 2017, D_Dog)"),
    "zheng_emotion": ("numeric", "emotion scores 0-100 (Zheng et al. 2017)"),
    "zheng_face": ("multiclass", "face sentiment (Zheng et al. 2017, D_Face)"),
    "zheng_product": ("binary", "product matching (Zheng et al. 2017, D_Product)"),
    "zheng_sentiment": ("binary", "tweet sentiment (Zheng et al. 2017, D_PosSent)"),
}


def list_datasets():
    """Names of the shipped datasets.

    Returns
    -------
    names : list of str
        Sorted dataset names, each valid for :func:`load_dataset`.

    Examples
    --------
    >>> from skcrowd.datasets import list_datasets
    >>> "zheng_product" in list_datasets()
    True
    """
    return sorted(DATASETS)


def _read_csv(name, filename):
    path = resources.files(__package__).joinpath("data", name, filename)
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        reader = csv.reader(io.StringIO(text.read()))
        header = next(reader)
        return header, list(reader)


def load_dataset(name, *, return_X_y=False, as_frame=False):
    """Load a shipped crowdsourcing dataset with its gold labels.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`.
    return_X_y : bool, default=False
        Return ``(votes, gold)`` instead of a Bunch.
    as_frame : bool, default=False
        Give the votes as a pandas DataFrame with columns ``task``,
        ``worker``, ``label`` (one row per answer, as Crowd-Kit takes them)
        and the gold labels as a Series indexed by task. Needs pandas.

    Returns
    -------
    data : Bunch
        ``votes``: the answers as :class:`~skcrowd.Votes` (or a DataFrame);
        ``gold``: the gold label of every task, aligned with
        ``votes.task_ids`` (``None`` where unknown); ``task_ids``; ``kind``
        ("binary", "multiclass" or "numeric"); ``DESCR``: source, citation,
        license and statistics. Task and worker ids are the files' strings;
        labels are integers when every label is one. Repeated answers by the
        same worker to the same task are kept (they count as votes).
    (votes, gold) : tuple
        With ``return_X_y=True``.

    Examples
    --------
    >>> from skcrowd.datasets import load_dataset
    >>> from skcrowd import MajorityVote
    >>> votes, gold = load_dataset("zheng_product", return_X_y=True)
    >>> votes
    Votes(n_tasks=8315, n_workers=176, n_classes=2, n_votes=24945)
    >>> round(MajorityVote().fit(votes).score(votes, gold), 3)
    0.897
    """
    if name not in DATASETS:
        raise ValueError(
            f"Unknown dataset {name!r}; the shipped datasets are {list_datasets()}."
        )
    _, answers = _read_csv(name, "answers.csv.gz")
    _, gold_rows = _read_csv(name, "gold.csv.gz")
    task, worker, label = (list(col) for col in zip(*answers, strict=True))
    labels = labels_from_strings(label + [g[1] for g in gold_rows])
    votes = Votes.from_long(np.asarray(task, dtype=str), np.asarray(worker, dtype=str),
                            labels[: len(label)])
    gold_map = dict(zip((g[0] for g in gold_rows), labels[len(label):].tolist(),
                        strict=True))
    gold_list = [gold_map.get(t) for t in votes.task_ids.tolist()]
    if all(g is not None for g in gold_list):
        gold = np.asarray(gold_list, dtype=labels.dtype)
    else:
        gold = _object_array(gold_list)
    descr = resources.files(__package__).joinpath("data", name, "README.md")
    descr = descr.read_text(encoding="utf-8")
    task_ids = votes.task_ids
    if as_frame:
        import pandas as pd

        frame = pd.DataFrame({"task": task, "worker": worker,
                              "label": labels[: len(label)]})
        gold = pd.Series(gold, index=pd.Index(task_ids, name="task"),
                         name="label")
        votes = frame
    if return_X_y:
        return votes, gold
    return Bunch(votes=votes, gold=gold, task_ids=task_ids,
                 kind=DATASETS[name][0], DESCR=descr, name=name)


def _make_loader(name):
    kind, title = DATASETS[name]

    def loader(*, return_X_y=False, as_frame=False):
        return load_dataset(name, return_X_y=return_X_y, as_frame=as_frame)

    loader.__name__ = loader.__qualname__ = f"load_{name}"
    loader.__doc__ = f"""Load the {name} dataset: {title} ({kind}).

    Same as ``load_dataset({name!r}, ...)``; see :func:`load_dataset` for the
    parameters and the returned Bunch, and the ``DESCR`` field for the
    source, citation, license and statistics.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(votes, gold)`` instead of a Bunch.
    as_frame : bool, default=False
        Votes as a pandas DataFrame (task, worker, label).

    Returns
    -------
    data : Bunch or tuple
        See :func:`load_dataset`.

    Examples
    --------
    >>> from skcrowd.datasets import load_{name}
    >>> data = load_{name}()
    >>> data.kind
    {kind!r}
    """
    return loader


for _name in DATASETS:
    globals()[f"load_{_name}"] = _make_loader(_name)
    __all__.append(f"load_{_name}")
del _name
