"""skcrowd: learning from crowdsourced labels as scikit-learn estimators."""

from ._votes import Votes, as_votes
from .aggregation import (
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    VoteProportions,
    Wawa,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "DawidSkene",
    "MajorityVote",
    "OneCoinDawidSkene",
    "VoteProportions",
    "Votes",
    "Wawa",
    "as_votes",
]
