"""dipen — coloured, timed Petri nets: a workflow engine and a Jupyter-first modelling toolkit.

Examples
--------
>>> import dipen
>>> net = (
...     dipen.Net("hello")
...     .place("inbox", tokens=[{"name": "Ada"}, {"name": "Alan"}])
...     .place("outbox")
... )
>>> @net.transition(take="inbox", give="outbox")
... async def greet(token):
...     return {"greeting": f"Hello, {token['name']}!"}
>>> runner = dipen.Runner(net)
>>> runner.run_sync().firings
2
>>> [t["greeting"] for t in runner.marking["outbox"]]
['Hello, Ada!', 'Hello, Alan!']
"""


from . import etcd_local, events
from .clock import Clock, RealClock, SimulatedClock, now, sleep
from .errors import (
    CompactedError,
    ConflictError,
    DipenError,
    EtcdNotFoundError,
    ExecutorError,
    FencingError,
    FiringError,
    NetError,
    NetMismatchError,
    NotEnabledError,
    RunnerError,
    StoreError,
    TokenError,
)
from .events import Firing
from .executors import (
    CreateContext,
    Disabled,
    Enabled,
    Executor,
    RunContext,
    StartContext,
    ValidateContext,
    current_firing,
)
from .history import History
from .net import Arc, ArcKind, Net, Place, Transition
from .policies import Block, ErrorPolicy, Retry, Stop, ToPlace
from .runner import Runner, RunSummary
from .stats import Stats
from .etcd_local import LocalEtcd, local_etcd
from .stores import EtcdStore, MemoryStore, Store
from .tokens import JsonCodec, Marking, Token

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # the live view needs ipywidgets and anywidget: imported on first use only
    if name == "LiveView":
        from .viz.widgets import LiveView

        return LiveView
    raise AttributeError(f"module 'dipen' has no attribute {name!r}")

__all__ = [
    "Arc",
    "ArcKind",
    "Block",
    "Clock",
    "CompactedError",
    "ConflictError",
    "CreateContext",
    "DipenError",
    "EtcdNotFoundError",
    "EtcdStore",
    "Disabled",
    "Enabled",
    "ErrorPolicy",
    "Executor",
    "ExecutorError",
    "FencingError",
    "Firing",
    "FiringError",
    "History",
    "JsonCodec",
    "LocalEtcd",
    "LiveView",
    "Marking",
    "MemoryStore",
    "Net",
    "NetError",
    "NetMismatchError",
    "NotEnabledError",
    "Place",
    "RealClock",
    "Retry",
    "RunContext",
    "RunSummary",
    "Runner",
    "RunnerError",
    "SimulatedClock",
    "StartContext",
    "Stats",
    "Stop",
    "Store",
    "StoreError",
    "ToPlace",
    "Token",
    "TokenError",
    "Transition",
    "ValidateContext",
    "__version__",
    "current_firing",
    "etcd_local",
    "events",
    "local_etcd",
    "now",
    "sleep",
]
