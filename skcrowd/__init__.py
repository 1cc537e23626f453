"""skcrowd: learning from crowdsourced labels as scikit-learn estimators."""

from ._votes import Votes, as_votes
from .aggregation import (
    BWA,
    EBCC,
    IBCC,
    IWMV,
    WDS,
    ClusteredDawidSkene,
    DawidSkene,
    DiagonalDawidSkene,
    GoldMajorityVote,
    MajorityVote,
    OneCoinDawidSkene,
    PlantNet,
    TwoThird,
    VoteProportions,
    Wawa,
)
from .crowdlab import CrowdLab
from .learning_from_crowds import LearningFromCrowds

__version__ = "0.1.0.dev0"

__all__ = [
    "BWA",
    "ClusteredDawidSkene",
    "CrowdLab",
    "DawidSkene",
    "DiagonalDawidSkene",
    "EBCC",
    "GoldMajorityVote",
    "IBCC",
    "IWMV",
    "LearningFromCrowds",
    "MajorityVote",
    "OneCoinDawidSkene",
    "PlantNet",
    "TwoThird",
    "VoteProportions",
    "Votes",
    "WDS",
    "Wawa",
    "as_votes",
]
