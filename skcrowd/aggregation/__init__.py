"""Aggregators: one module per model family."""

from .bayesian import BWA, EBCC, IBCC
from .dawid_skene import (
    ClusteredDawidSkene,
    DawidSkene,
    DiagonalDawidSkene,
    OneCoinDawidSkene,
)
from .glad import GLAD
from .kos import KOS
from .mace import MACE
from .mmsr import MMSR
from .vote import (
    IWMV,
    GoldMajorityVote,
    MajorityVote,
    PlantNet,
    TwoThird,
    VoteProportions,
    Wawa,
)
from .weighted_dawid_skene import WDS
from .zero_based_skill import ZeroBasedSkill

__all__ = [
    "AGGREGATORS",
    "BWA",
    "ClusteredDawidSkene",
    "DawidSkene",
    "DiagonalDawidSkene",
    "EBCC",
    "GLAD",
    "GoldMajorityVote",
    "IBCC",
    "IWMV",
    "KOS",
    "MACE",
    "MMSR",
    "MajorityVote",
    "OneCoinDawidSkene",
    "PlantNet",
    "TwoThird",
    "VoteProportions",
    "WDS",
    "Wawa",
    "ZeroBasedSkill",
    "aggregator_name",
    "get_aggregator",
]

#: Command-line name of every aggregator -> its class.
AGGREGATORS = {
    "majority_vote": MajorityVote,
    "vote_proportions": VoteProportions,
    "wawa": Wawa,
    "dawid_skene": DawidSkene,
    "one_coin_dawid_skene": OneCoinDawidSkene,
    "gold_majority_vote": GoldMajorityVote,
    "iwmv": IWMV,
    "two_third": TwoThird,
    "plantnet": PlantNet,
    "wds": WDS,
    "diagonal_dawid_skene": DiagonalDawidSkene,
    "clustered_dawid_skene": ClusteredDawidSkene,
    "ibcc": IBCC,
    "ebcc": EBCC,
    "bwa": BWA,
    "glad": GLAD,
    "mace": MACE,
    "kos": KOS,
    "mmsr": MMSR,
    "zero_based_skill": ZeroBasedSkill,
}


def aggregator_name(name):
    """The ``AGGREGATORS`` key of an aggregator given by key or class name.

    Parameters
    ----------
    name : str
        A key of ``AGGREGATORS`` (``"dawid_skene"``, ``"dawid-skene"``) or a
        class name (``"DawidSkene"``), any case.

    Returns
    -------
    key : str
        The ``AGGREGATORS`` key.

    Examples
    --------
    >>> from skcrowd.aggregation import aggregator_name
    >>> aggregator_name("DawidSkene"), aggregator_name("dawid-skene")
    ('dawid_skene', 'dawid_skene')
    """
    key = name.lower().replace("-", "_")
    if key in AGGREGATORS:
        return key
    by_class = {cls.__name__.lower(): k for k, cls in AGGREGATORS.items()}
    if key.replace("_", "") in by_class:
        return by_class[key.replace("_", "")]
    raise ValueError(
        f"Unknown aggregator {name!r}; choose one of {sorted(AGGREGATORS)}."
    )


def get_aggregator(name, **params):
    """A new aggregator from its name.

    Parameters
    ----------
    name : str
        A key of ``AGGREGATORS`` (``"dawid_skene"``) or a class name
        (``"DawidSkene"``), any case.
    **params
        Hyperparameters passed to the constructor.

    Returns
    -------
    aggregator : BaseAggregator
        An unfitted estimator.

    Examples
    --------
    >>> from skcrowd.aggregation import get_aggregator
    >>> get_aggregator("DawidSkene", alpha=0.1)
    DawidSkene(alpha=0.1)
    """
    return AGGREGATORS[aggregator_name(name)](**params)
