#!/usr/bin/env python3
"""legit_requests.py VIP PORT SECONDS [PAUSE]: a legitimate client during a flood. Opens one short
HTTP/1.0 connection to VIP:PORT for GET /whoami, waits PAUSE seconds (default 0.02), again, for
SECONDS; prints "ok=N failed=N slowest_ms=N errors={...}" (an answer other than 200 is a failure)."""
import socket
import sys
import time

vip, port, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.02
request = f"GET /whoami HTTP/1.0\r\nHost: {vip}\r\n\r\n".encode()
ok, failed, errors, slowest = 0, 0, {}, 0.0
end = time.monotonic() + duration
while time.monotonic() < end:
    start = time.monotonic()
    try:
        with socket.create_connection((vip, port), timeout=5) as s:
            s.sendall(request)
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        if not data.startswith(b"HTTP/1.1 200"):
            raise OSError(f"unexpected answer {data[:40]!r}")
        ok += 1
    except OSError as e:
        failed += 1
        errors[str(e)] = errors.get(str(e), 0) + 1
    slowest = max(slowest, time.monotonic() - start)
    time.sleep(pause)
print(f"ok={ok} failed={failed} slowest_ms={slowest * 1000:.0f} errors={errors}")
