"""One HTTP call of the API: path built from its template, body from a model, answer parsed
into the operation's type or raised as a typed error."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from channel_sync_client.errors import error_for

T = TypeVar("T")
Params = Mapping[str, str | int | bool | date | None]

DEFAULT_TIMEOUT = 30.0


_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _adapter(tp: Any) -> TypeAdapter[Any]:
    # Building an adapter compiles a validator: once per answer type, not per call.
    if tp not in _ADAPTERS:
        _ADAPTERS[tp] = TypeAdapter(tp)
    return _ADAPTERS[tp]


def fill_path(template: str, path: Mapping[str, str | int]) -> str:
    """`/v1/properties/{property_id}` with each value percent-encoded as one segment: a PMS
    id with a `/` or `?` in it cannot reach another route."""
    return template.format_map({name: quote(str(value), safe="") for name, value in path.items()})


class Transport:
    """The client's connection. Pass `http` to share an `httpx.AsyncClient` you configured
    (base URL and credentials included); it is then yours to close."""

    def __init__(
        self,
        base_url: str = "",
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if http is None:
            headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
            http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout)
            self._owns_http = True
        else:
            self._owns_http = False
        self.http = http

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _call(
        self,
        answer: type[T],
        method: str,
        template: str,
        path: Mapping[str, str | int] | None = None,
        *,
        params: Params | None = None,
        body: BaseModel | None = None,
        also_ok: Collection[int] = (),
    ) -> T:
        """Send one request; its answer as `answer` (`type(None)` for 204), or raise the
        `ChannelSyncError` subclass of the problem. `also_ok` lists error statuses whose body
        is the answer all the same (503 of /health/ready)."""
        response = await self._send(method, fill_path(template, path or {}), params, body)
        if response.is_error and response.status_code not in also_ok:
            raise error_for(response)
        if answer is type(None):
            return None
        parsed: T = _adapter(answer).validate_json(response.content)
        return parsed

    async def _send(
        self, method: str, url: str, params: Params | None, body: BaseModel | None
    ) -> httpx.Response:
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        if body is None:
            return await self.http.request(method, url, params=query)
        # Only the fields the caller set: the service's defaults apply to the rest, and a
        # partial update ("only given fields change") stays partial.
        content = body.model_dump_json(exclude_unset=True, by_alias=True)
        headers = {"Content-Type": "application/json"}
        return await self.http.request(method, url, params=query, content=content, headers=headers)


def _query_value(value: str | int | bool | date) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
