"""Load generator for bench_booking.py, in its own process: each client books through the
HTTP API on a keep-alive connection, as fast as answers come, until the time is up.

Input: a JSON plan {"url", "duration_s", "clients": [{"session", "slots": [...]}]}.
Output (stdout): JSON with counts by status and every latency in milliseconds.
"""

from __future__ import annotations

import http.client
import json
import resource
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

CSRF = "b" * 32


def client_loop(  # noqa: PLR0917 - a thread target takes positional arguments
    url: str, session: str, slots: list[dict], deadline: float, results: dict, lock: threading.Lock
) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {
        "Content-Type": "application/json",
        "Cookie": f"sessionid={session}; csrftoken={CSRF}",
        "X-CSRFToken": CSRF,
    }
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    for slot in slots:
        if time.monotonic() >= deadline:
            break
        body = json.dumps(slot)
        began = time.perf_counter()
        try:
            conn.request(
                "POST",
                "/api/v1/appointments",
                body,
                headers | {"Idempotency-Key": uuid.uuid4().hex},
            )
            response = conn.getresponse()
            response.read()
            status = str(response.status)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            status = "error"
        latencies.append((time.perf_counter() - began) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    conn.close()
    with lock:
        results["latencies"].extend(latencies)
        for status, count in statuses.items():
            results["statuses"][status] = results["statuses"].get(status, 0) + count


def main() -> None:
    plan = json.load(open(sys.argv[1]))  # noqa: SIM115, PTH123 - a throwaway plan file
    results: dict = {"latencies": [], "statuses": {}}
    lock = threading.Lock()
    began = time.monotonic()
    deadline = began + plan["duration_s"]
    threads = [
        threading.Thread(
            target=client_loop,
            args=(plan["url"], c["session"], c["slots"], deadline, results, lock),
        )
        for c in plan["clients"]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results["elapsed_s"] = time.monotonic() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results["cpu_s"] = usage.ru_utime + usage.ru_stime
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
