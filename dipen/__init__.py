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


from . import analysis, etcd_local, events, pnml, recording, timeline
from .contexts import (
    CreateContext, Disabled, Enabled, RunContext, StartContext, ValidateContext, current_firing,
)
from .control import Answer, Control
from .clock import Clock, RealClock, SimulatedClock, now, sleep
from .elements import Arc, ArcKind, Place, Transition
from .errors import (
    AnalysisError,
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
    PnmlError,
    RecordingError,
    RunnerError,
    SnapshotError,
    StoreError,
    TokenError,
    UnavailableError,
)
from .events import Firing
from .executors import Executor
from .history import History
from .migration import Migration, migrate
from .net import Net
from .recording import record, record_sync, replay
from .statistics import Statistics, statistics
from .timeline import Timeline, history, history_sync, marking_at, marking_at_sync
from .policies import Block, ErrorPolicy, Retry, Stop, ToPlace
from .runner import Runner, RunSummary
from .stats import Stats
from .etcd_local import LocalEtcd, local_etcd
from .stores import EtcdStore, MemoryStore, Store
from .tokens import JsonCodec, Marking, PickleCodec, Token

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # the live view needs ipywidgets and anywidget: imported on first use only
    if name == "LiveView":
        from .viz.widgets import LiveView

        return LiveView
    raise AttributeError(f"module 'dipen' has no attribute {name!r}")

__all__ = [
    "Migration",
    "migrate",
    "Answer",
    "AnalysisError",
    "Arc",
    "ArcKind",
    "Block",
    "Clock",
    "Control",
    "CompactedError",
    "ConflictError",
    "CreateContext",
    "DipenError",
    "Disabled",
    "Enabled",
    "ErrorPolicy",
    "EtcdNotFoundError",
    "EtcdStore",
    "Executor",
    "ExecutorError",
    "FencingError",
    "Firing",
    "FiringError",
    "History",
    "JsonCodec",
    "LiveView",
    "LocalEtcd",
    "Marking",
    "MemoryStore",
    "Net",
    "NetError",
    "NetMismatchError",
    "NotEnabledError",
    "PickleCodec",
    "Place",
    "PnmlError",
    "RealClock",
    "RecordingError",
    "Retry",
    "RunContext",
    "RunSummary",
    "Runner",
    "RunnerError",
    "SimulatedClock",
    "SnapshotError",
    "StartContext",
    "Statistics",
    "Stats",
    "Stop",
    "Store",
    "StoreError",
    "Timeline",
    "ToPlace",
    "Token",
    "TokenError",
    "Transition",
    "UnavailableError",
    "ValidateContext",
    "analysis",
    "current_firing",
    "etcd_local",
    "events",
    "history",
    "history_sync",
    "local_etcd",
    "marking_at",
    "marking_at_sync",
    "now",
    "pnml",
    "record",
    "record_sync",
    "recording",
    "replay",
    "sleep",
    "statistics",
    "timeline",
    "__version__",
]
