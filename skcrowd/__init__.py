"""skcrowd: learning from crowdsourced labels as scikit-learn estimators."""

from ._votes import Votes, as_votes
from .aggregation import (
    BWA,
    EBCC,
    GLAD,
    IBCC,
    IWMV,
    KOS,
    MACE,
    MMSR,
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
    ZeroBasedSkill,
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
    "GLAD",
    "GoldMajorityVote",
    "IBCC",
    "IWMV",
    "KOS",
    "LearningFromCrowds",
    "MACE",
    "MMSR",
    "MajorityVote",
    "OneCoinDawidSkene",
    "PlantNet",
    "TwoThird",
    "VoteProportions",
    "Votes",
    "WDS",
    "Wawa",
    "ZeroBasedSkill",
    "as_votes",
]
