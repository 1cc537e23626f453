"""Where the state of an online (``partial_fit``) aggregator lives.

:class:`MemoryStore` (the default) keeps it in the process;
:class:`MongoStore` keeps it in MongoDB so that several processes and
restarts continue one model. Both implement the same small interface, used
only by the online driver (:mod:`skcrowd._online`):

``meta()``
    the model's global state (dict) or None before the first batch;
``is_applied(batch_id)``
    whether that batch was applied already;
``task_state(task_ids)``
    the kept votes, gold labels and posteriors of those tasks (the votes as
    ``task`` and ``worker`` ids, ``label`` codes, ``weight``, and optionally
    ``index``, the position of each vote's task in ``task_ids``);
``worker_stats(worker_ids, keys)``
    the (unscaled) per-worker statistics of those workers;
``commit(batch)``
    apply one batch completely, or not at all (its new votes come coded:
    ``task_code`` into ``task_ids``, ``worker_code`` into ``worker_ids``);
``all_votes()``, ``all_worker_stats(keys)``, ``all_tasks()``
    everything, for reading the consensus and the fitted parameters;
``drop()``
    forget this model's state.
"""

from .memory import MemoryStore
from .mongo import MongoStore, StoreUnavailableError

__all__ = ["MemoryStore", "MongoStore", "StoreUnavailableError", "resolve_store"]


def resolve_store(store):
    """The store object for an estimator's ``store`` parameter.

    Parameters
    ----------
    store : None, str or store object
        ``None`` is a fresh in-memory store; a ``"mongodb://..."`` URI is
        read by :class:`MongoStore` with default names; a store object is
        used as is.

    Returns
    -------
    store : MemoryStore, MongoStore or the given object

    Examples
    --------
    >>> from skcrowd.stores import resolve_store
    >>> resolve_store(None)  # doctest: +ELLIPSIS
    <skcrowd.stores.memory.MemoryStore object at ...>
    """
    if store is None:
        return MemoryStore()
    if isinstance(store, str):
        if store.startswith(("mongodb://", "mongodb+srv://")):
            return MongoStore(store)
        raise ValueError(
            f"store={store!r} is not a MongoDB URI (mongodb://...); pass None for "
            "memory, a URI, or a store object."
        )
    required = ("meta", "is_applied", "task_state", "worker_stats", "commit")
    missing = [name for name in required if not hasattr(store, name)]
    if missing:
        raise TypeError(
            f"store of type {type(store).__name__} lacks {missing}; pass None, a "
            "MongoDB URI, a MemoryStore or a MongoStore."
        )
    return store
