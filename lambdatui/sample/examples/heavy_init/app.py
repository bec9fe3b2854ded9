"""A function with a heavy init: the module-level work runs once per environment.

Invoke it twice: the first invoke is cold (Init Duration ~ 400 ms), the second warm and quick.
"""

import hashlib
import time

_started = time.time()
# Stand-in for loading a model or opening connections: CPU work done once, at import.
_TABLE = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(200_000)]
INIT_SECONDS = time.time() - _started


def lambda_handler(event, context):
    n = int(event.get("n", 7)) if isinstance(event, dict) else 7
    return {"entry": _TABLE[n % len(_TABLE)], "init_seconds": round(INIT_SECONDS, 3)}
