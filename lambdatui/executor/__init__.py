"""The local Lambda executor: execution environments as processes, the Runtime API, pools.

Imports neither Textual nor boto3, so the CLI and `serve` stay fast and the layer above
(`lambdatui.backends`) can be tested on its own.
"""

from .executor import Executor, FunctionNotFound, InvokeRequestError
from .logstore import LogEvent, LogStore
from .runtimes import UnsupportedRuntime
from .spec import FunctionSpec, InvokeResult

__all__ = [
    "Executor",
    "FunctionNotFound",
    "FunctionSpec",
    "InvokeRequestError",
    "InvokeResult",
    "LogEvent",
    "LogStore",
    "UnsupportedRuntime",
]
