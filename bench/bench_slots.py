"""Slot search on a generated year of calendars (50 practitioners, 6 sites, 40,000
appointments, all made up): p95 latency of a week's search, and the query count of the same
search with 4,000 and with 40,000 appointments (the ratio must be 1: no N+1).

Target (issue 6): p95 under 50 ms, and the same query count at both sizes.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import timedelta

from _support import (
    Generated,
    django_setup,
    generate_calendar,
    percentile,
    postgres_url,
    sqlite_url,
)

SEARCHES = 200
TARGET_P95_MS = 50.0


def main() -> int:
    url = postgres_url()
    engine = "postgresql" if url else "sqlite"
    django_setup(url or sqlite_url())
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinic.directory.models import Service, Site
    from clinic.scheduling.availability import SlotQuery, slots_search

    counts: dict[str, int] = {}

    def count_queries(generated: Generated) -> int:
        service = Service.objects.get(slug=generated.service_slug)
        query = SlotQuery(
            service=service,
            date_from=generated.first_day,
            date_to=generated.first_day + timedelta(days=6),
        )
        with CaptureQueriesContext(connection) as captured:
            slots_search(query)
        return len(captured)

    generated = generate_calendar(
        practitioners=50,
        sites=6,
        appointments=40_000,
        checkpoint=4_000,
        on_checkpoint=lambda g: counts.__setitem__("4k", count_queries(g)),
    )
    counts["40k"] = count_queries(generated)
    service = Service.objects.get(slug=generated.service_slug)
    sites = list(Site.objects.filter(slug__in=generated.site_slugs))
    rng = random.Random(11)
    # Warm up first: connection, query plans and caches, as in a running server.
    for _ in range(20):
        first = generated.first_day + timedelta(days=rng.randrange(generated.days - 7))
        slots_search(SlotQuery(service=service, date_from=first, date_to=first + timedelta(days=6)))
    timings = []
    found = 0
    for _ in range(SEARCHES):
        first = generated.first_day + timedelta(days=rng.randrange(generated.days - 7))
        chosen = (rng.choice(sites),) if rng.random() < 0.5 else ()
        query = SlotQuery(
            service=service, date_from=first, date_to=first + timedelta(days=6), sites=chosen
        )
        began = time.perf_counter()
        found += len(slots_search(query))
        timings.append((time.perf_counter() - began) * 1000)
    p50, p95 = percentile(timings, 0.50), percentile(timings, 0.95)
    ratio = counts["40k"] / counts["4k"]
    ok = p95 < TARGET_P95_MS and counts["40k"] == counts["4k"]
    worst = max(timings)
    print(f"engine={engine} searches={SEARCHES} slots_found={found}", end=" ")
    print(f"p50_ms={p50:.1f} max_ms={worst:.1f}")
    print(
        f"BENCH slots p95_ms={p95:.1f} queries_4k={counts['4k']} queries_40k={counts['40k']} "
        f"query_ratio={ratio:.2f} target=p95<{TARGET_P95_MS:.0f}ms,query_ratio=1.00 "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
