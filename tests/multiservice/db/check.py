import json
import socket
import sys

with socket.create_connection(("127.0.0.1", 5432), timeout=2) as conn:
    sys.exit(0 if json.loads(conn.makefile().readline())["ready"] else 1)
