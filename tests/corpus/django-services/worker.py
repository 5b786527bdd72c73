"""A background worker: waits on the cache, like a Celery worker would."""

import contextlib
import os
import socket
import time

while True:
    with contextlib.suppress(OSError):
        socket.create_connection(
            (os.environ.get("REDIS_HOST", "localhost"), 6379), timeout=1
        ).close()
    time.sleep(5)
