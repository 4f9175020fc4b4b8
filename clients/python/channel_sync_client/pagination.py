"""Iterators over the API's two kinds of pages: offset pages (`Page_*`: `items`,
`next_offset`) and the booking feed (`items`, `next_cursor`, `resume_after`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from channel_sync_client import models as m

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class OffsetPage(Protocol[T_co]):
    @property
    def items(self) -> Sequence[T_co]: ...

    @property
    def next_offset(self) -> int | None: ...


async def iter_offset_pages(
    fetch: Callable[[int], Awaitable[OffsetPage[T]]],
) -> AsyncIterator[T]:
    """Every item of `fetch(0)`, then of the page at its `next_offset`, until there is none."""
    offset: int | None = 0
    while offset is not None:
        page = await fetch(offset)
        for item in page.items:
            yield item
        offset = page.next_offset if page.items else None


async def iter_feed_pages(
    fetch: Callable[[str | None], Awaitable[m.RevisionFeed]], after: str | None
) -> AsyncIterator[m.RevisionFeed]:
    """Feed pages from `after` until the last one (its `next_cursor` is null); the last
    page's `resume_after` is where to poll from next time."""
    while True:
        page = await fetch(after)
        yield page
        if page.next_cursor is None:
            return
        after = page.next_cursor
