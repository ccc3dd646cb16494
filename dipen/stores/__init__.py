"""Where the state of a net lives: the :class:`Store` protocol and its implementations."""

from .base import Leadership, Store
from .etcd import EtcdStore
from .memory import MemoryStore

__all__ = ["EtcdStore", "Leadership", "MemoryStore", "Store"]
