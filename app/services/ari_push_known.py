"""What a push knows of its cells between its own transactions, and when that still holds.

A push reads its cells once, to plan, then writes to them twice per request (before it, to
forget the fields in flight; after it, to record the answer), each in its own transaction under
the property's ARI lock. Reading the 20,000 cells of a full sync again for each write cost more
than the compression. Every writer of a property's cells takes that lock, and every taking bumps
`ari_state.revision`; so when the push takes the lock and finds the revision just above where
its own last taking (or its plan's read) left it, nobody else wrote cells in between, and what
it knows is still what the database holds. Otherwise it reads them again, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.models import AriState
from app.services.ari_outcome import Fields, Key

V = TypeVar("V")


@dataclass(slots=True)
class KnownCell:
    """One cell as the push last read or wrote it (documents shared between cells: read-only)."""

    desired: Fields
    pushed: Fields
    failure: str | None
    dirty: bool


@dataclass
class KnownCells:
    """The cells of the plan's batches, per endpoint, and the revision they are valid at.

    `revision` is None once someone else may have written cells: then nothing here is used.
    `batches` are the plan's cells to send per endpoint: the same keys, in the same order."""

    revision: int | None
    cells: dict[str, dict[Key, KnownCell]] = field(default_factory=dict)
    batches: dict[str, Mapping[Key, Any]] = field(default_factory=dict)

    def add(self, endpoint: str, batch: Mapping[Key, Any], cells: dict[Key, KnownCell]) -> None:
        self.batches[endpoint], self.cells[endpoint] = batch, cells

    def taken(self, state: AriState) -> bool:
        """After the push took the lock (which bumped `state.revision`): whether no one else
        took it since the push's last look. When someone did, all is forgotten."""
        valid = self.revision is not None and state.revision == self.revision + 1
        self.revision = state.revision if valid else None
        if not valid:
            self.cells.clear()
            self.batches.clear()
        return valid

    def cover(self, state: AriState, endpoint: str, wanted: Mapping[Key, Any]) -> bool:
        """`taken`, and every cell of `wanted` known. When some is not (a cell the plan did not
        read: held, or outside its batch) the caller reads them, and writes what this does not
        follow, so all is forgotten."""
        if not self.taken(state):
            return False
        known = self.cells.get(endpoint, {})
        if wanted is self.batches.get(endpoint) or wanted.keys() <= known.keys():
            return True
        self.revision = None
        self.cells.clear()
        self.batches.clear()
        return False

    def rows(self, endpoint: str, wanted: Mapping[Key, V]) -> Iterator[tuple[Key, V, KnownCell]]:
        """Each cell of `wanted` (covered) with its value there and what is known of it."""
        known = self.cells[endpoint]
        if wanted is self.batches[endpoint]:  # same keys, same order: no lookups
            return (
                (key, value, cell)
                for (key, value), cell in zip(wanted.items(), known.values(), strict=True)
            )
        return ((key, value, known[key]) for key, value in wanted.items())
