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

from dataclasses import dataclass, field

from app.models import AriState
from app.services.ari_outcome import Fields, Key


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

    `revision` is None once someone else may have written cells: then nothing here is used."""

    revision: int | None
    cells: dict[str, dict[Key, KnownCell]] = field(default_factory=dict)

    def taken(self, state: AriState) -> dict[str, dict[Key, KnownCell]] | None:
        """After the push took the lock (which bumped `state.revision`): the known cells if
        no one else took it since the push's last look, else None (and they are forgotten)."""
        valid = self.revision is not None and state.revision == self.revision + 1
        self.revision = state.revision if valid else None
        if not valid:
            self.cells.clear()
            return None
        return self.cells

    def of(self, state: AriState, endpoint: str, keys: set[Key]) -> dict[Key, KnownCell] | None:
        """`taken`, for one endpoint's cells; None also when some key is not known (a cell
        the plan did not read: held, or outside its batch): the caller reads them, and writes
        what this does not follow, so it is all forgotten."""
        taken = self.taken(state)
        known = None if taken is None else taken.get(endpoint, {})
        if known is None or not keys <= known.keys():
            self.revision = None
            self.cells.clear()
            return None
        return known
