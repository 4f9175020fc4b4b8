"""Fairness of the account-wide Channex budget between organizations, on a simulated clock.

Organization A runs full syncs of `--properties` properties (two ARI requests each, all asked
for at once, each refused request asking again when the limiter says, as the ARI job does);
organization B changes one cell of its one property `--b-at` seconds later. The limiter is
the service's own MemoryRateLimiter (the Redis one runs the same windows in Lua), with the
account's default budget (600 requests a minute, 18,000 an hour). Printed: how long B's
change waited for its request, and how long A's syncs took, with each organization allowed
the whole budget (tenant share 1, as before) and with the default share (0.5).

    .venv/bin/python benchmarks/tenant_fairness.py      # --properties, --b-at, --share

It measures the limiter's policy alone: no HTTP, no database (see benchmarks/ari.py for a
push's own cost). Target (issue 11): B's change goes out within seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.channex.ratelimit import MemoryRateLimiter
from app.settings import Settings


@dataclass(order=True)
class Ask:
    at: float
    seq: int
    tenant: str = field(compare=False)
    property_id: str = field(compare=False)
    endpoint: str = field(compare=False)
    first_at: float = field(compare=False)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def simulate(properties: int, b_at: float, share: float) -> tuple[float, float]:
    """(B's wait, A's completion time) in simulated seconds."""
    defaults = Settings(_env_file=None)
    clock = Clock()
    limiter = MemoryRateLimiter(
        per_property_per_minute=defaults.channex_rate_limit_per_minute,
        global_per_minute=defaults.channex_global_limit_per_minute,
        global_per_hour=defaults.channex_global_limit_per_hour,
        clock=clock,
        tenant_share=share,
    )
    asks: list[Ask] = []
    seq = 0
    for n in range(properties):
        for endpoint in ("availability", "restrictions"):
            asks.append(Ask(0.0, seq, "a", f"a-{n}", endpoint, 0.0))
            seq += 1
    asks.append(Ask(b_at, seq, "b", "b-0", "availability", b_at))
    heapq.heapify(asks)
    b_wait, a_done = float("nan"), 0.0
    while asks:
        ask = heapq.heappop(asks)
        clock.now = ask.at
        wait = await limiter.acquire(
            property_id=ask.property_id, endpoint=ask.endpoint, tenant=ask.tenant
        )
        if wait > 0:
            seq += 1
            heapq.heappush(asks, Ask(ask.at + wait, seq, ask.tenant, ask.property_id,
                                     ask.endpoint, ask.first_at))  # fmt: skip
        elif ask.tenant == "b":
            b_wait = ask.at - ask.first_at
        else:
            a_done = max(a_done, ask.at)
    return b_wait, a_done


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=500)
    parser.add_argument("--b-at", type=float, default=10.0)
    parser.add_argument(
        "--share", type=float, default=Settings(_env_file=None).channex_tenant_share
    )
    args = parser.parse_args()
    print(
        f"A: full syncs of {args.properties} properties ({2 * args.properties} requests) at 0 s;"
        f" B: one change at {args.b_at:.0f} s"
    )
    print("  tenant share   B's change waited   A's syncs took")
    for share in (1.0, args.share):
        b_wait, a_done = await simulate(args.properties, args.b_at, share)
        print(f"  {share:>12.2f}   {b_wait:>15.1f} s   {a_done:>12.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
