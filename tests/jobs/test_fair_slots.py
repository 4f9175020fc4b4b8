"""Job slots shared between tenants in turn (app/jobs/fair_slots.py); the in-process queue's use
of them is tested in test_in_process_queue.py."""

from __future__ import annotations

import asyncio

from app.jobs.fair_slots import FairSlots
from tests.jobs.support import DRAIN_TIMEOUT_SECONDS


async def _run_in_turn(slots: FairSlots, jobs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Start every job at once behind a held slot, release it, and return the order they ran."""
    ran: list[tuple[str, int]] = []
    gate = asyncio.Event()

    async def hold() -> None:
        async with slots.slot("holder"):
            await gate.wait()

    async def job(tenant: str, n: int) -> None:
        async with slots.slot(tenant):
            ran.append((tenant, n))
            await asyncio.sleep(0)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(job(t, n)) for t, n in jobs]
    await asyncio.sleep(0)
    assert slots.waiting() == len(jobs)
    gate.set()
    await asyncio.wait_for(asyncio.gather(holder, *tasks), DRAIN_TIMEOUT_SECONDS)
    return ran


async def test_a_freed_slot_goes_to_the_next_tenant_in_turn_not_to_the_longest_waiting() -> None:
    # A asked for five jobs before B asked for two: B's first runs second, not sixth.
    jobs = [("A", n) for n in range(5)] + [("B", n) for n in range(2)]
    ran = await _run_in_turn(FairSlots(1), jobs)
    assert ran == [("A", 0), ("B", 0), ("A", 1), ("B", 1), ("A", 2), ("A", 3), ("A", 4)]


async def test_one_tenant_alone_runs_first_come_first_served_up_to_the_limit() -> None:
    slots = FairSlots(2)
    inside = 0
    most = 0
    order: list[int] = []

    async def job(n: int) -> None:
        nonlocal inside, most
        async with slots.slot("A"):
            inside += 1
            most = max(most, inside)
            order.append(n)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.wait_for(asyncio.gather(*(job(n) for n in range(6))), DRAIN_TIMEOUT_SECONDS)
    assert order == list(range(6))
    assert most == 2


async def test_a_cancelled_waiter_gives_up_its_place_and_loses_no_slot() -> None:
    slots = FairSlots(1)
    gate = asyncio.Event()

    async def hold() -> None:
        async with slots.slot("A"):
            await gate.wait()

    async def wait_for_slot() -> None:
        async with slots.slot("B"):
            pass

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(wait_for_slot())
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert slots.waiting() == 0
    gate.set()
    await holder
    # The one slot is free again: two acquisitions in a row do not wait.
    for _ in range(2):
        async with asyncio.timeout(DRAIN_TIMEOUT_SECONDS), slots.slot("C"):
            pass
