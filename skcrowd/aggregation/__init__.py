"""Aggregators: one module per model family."""

from .dawid_skene import DawidSkene, OneCoinDawidSkene
from .vote import MajorityVote, VoteProportions, Wawa

__all__ = [
    "DawidSkene",
    "MajorityVote",
    "OneCoinDawidSkene",
    "VoteProportions",
    "Wawa",
]
