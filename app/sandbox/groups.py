"""Groups and property association (channex-api.md §2)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.sandbox.deps import BodyDep, StateDep
from app.sandbox.errors import bad_request, not_found, validation_error
from app.sandbox.jsonapi import Json, item, page, ref, success, unwrap
from app.sandbox.state import Group, SandboxState, new_id
from app.sandbox.validate import Checker

router = APIRouter()


def group_item(state: SandboxState, group: Group) -> Json:
    members = [p for p in state.store.properties.values() if group.id in p.group_ids]
    data = [ref("property", p.id, title=p.attrs["title"]) for p in members]
    return item("group", group.id, {"title": group.title}, {"properties": {"data": data}})


def get_group(state: SandboxState, group_id: str) -> Group:
    group = state.store.groups.get(group_id)
    if group is None:
        raise not_found()
    return group


def default_group(state: SandboxState) -> Group:
    """The user's default group, used for properties created without `group_id` (§3)."""
    for group in state.store.groups.values():
        if group.title == "Default Group":
            return group
    group = Group(new_id(), "Default Group")
    state.store.groups[group.id] = group
    return group


def _title(body: object) -> str:
    attrs = unwrap(body, "group")
    checker = Checker(attrs)
    checker.text("title", required=True)
    checker.raise_if_any()
    title: str = attrs["title"]
    return title


@router.get("/groups")
async def list_groups(request: Request, state: StateDep) -> Json:
    """List groups, by title."""
    groups = sorted(state.store.groups.values(), key=lambda g: g.title)
    return page(request, [group_item(state, g) for g in groups])


@router.get("/groups/{group_id}")
async def read_group(group_id: str, state: StateDep) -> Json:
    """One group."""
    return {"data": group_item(state, get_group(state, group_id))}


@router.post("/groups", status_code=201)
async def create_group(body: BodyDep, state: StateDep) -> Json:
    """Create a group."""
    async with state.lock:
        group = Group(new_id(), _title(body))
        state.store.groups[group.id] = group
        return {"data": group_item(state, group)}


@router.put("/groups/{group_id}")
async def update_group(group_id: str, body: BodyDep, state: StateDep) -> Json:
    """Rename a group."""
    async with state.lock:
        group = get_group(state, group_id)
        group.title = _title(body)
        return {"data": group_item(state, group)}


@router.delete("/groups/{group_id}")
async def delete_group(group_id: str, state: StateDep) -> Json:
    """Delete a group; 400 while it still has properties."""
    async with state.lock:
        get_group(state, group_id)
        if any(group_id in p.group_ids for p in state.store.properties.values()):
            raise bad_request("group has properties")
        del state.store.groups[group_id]
        return success()


@router.post("/groups/{group_id}/properties/{property_id}")
async def add_property_to_group(group_id: str, property_id: str, state: StateDep) -> Json:
    """Associate a property with one more group; 422 when the pair exists."""
    async with state.lock:
        get_group(state, group_id)
        prop = state.store.properties.get(property_id)
        if prop is None:
            raise not_found()
        if group_id in prop.group_ids:
            message = "Only one GroupHotel entity per Group and Hotel pair allowed!"
            raise validation_error({"hotel_id": [message]})
        prop.group_ids.append(group_id)
        return success()


@router.delete("/groups/{group_id}/properties/{property_id}")
async def remove_property_from_group(group_id: str, property_id: str, state: StateDep) -> Json:
    """Remove a property from a group; 400 if it would be left in no group (§2)."""
    async with state.lock:
        get_group(state, group_id)
        prop = state.store.properties.get(property_id)
        if prop is None or group_id not in prop.group_ids:
            raise not_found()
        if len(prop.group_ids) == 1:
            raise bad_request("property must belong to at least one group")
        prop.group_ids.remove(group_id)
        return success()
