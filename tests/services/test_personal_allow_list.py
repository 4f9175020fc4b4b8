"""Adversarial: guest data is what is not known to be safe. A field Channex adds later, at the
top or in a room, is kept encrypted and erased with the rest, never stored in clear."""

from __future__ import annotations

from app.services.personal_data import merge_personal, split_personal

REVISION = {
    "id": "rev-1",
    "status": "new",
    "amount": "200.00",
    "customer": {"name": "Ada", "mail": "ada@example.com"},
    "notes": "late arrival",
    "meta": {"guest_ip": "203.0.113.9"},  # open content: guest data by default
    "loyalty_member_email": "ada@example.com",  # a field Channex might add one day
    "rooms": [
        {
            "room_type_id": "rt-1",
            "days": {"2031-01-10": "100.00"},
            "guests": [{"name": "Ada", "surname": "L."}],
            "guest_phone": "+44 20 7946 0000",  # a room field Channex might add
        }
    ],
}


def test_only_allow_listed_fields_are_kept_in_clear() -> None:
    clean, personal = split_personal(REVISION)

    assert clean == {
        "id": "rev-1",
        "status": "new",
        "amount": "200.00",
        "rooms": [{"room_type_id": "rt-1", "days": {"2031-01-10": "100.00"}}],
    }
    assert "ada@example.com" not in repr(clean)
    assert set(personal) == {"customer", "notes", "meta", "loyalty_member_email", "rooms"}
    assert merge_personal(clean, personal) == {**REVISION, "guarantee": None}


def test_erased_guest_data_leaves_no_unknown_field_behind() -> None:
    clean, _ = split_personal(REVISION)

    erased = merge_personal(clean, None)

    assert erased["customer"] is None
    assert "loyalty_member_email" not in erased
    assert "meta" not in erased
    assert erased["rooms"] == [
        {"room_type_id": "rt-1", "days": {"2031-01-10": "100.00"}, "guests": None}
    ]


def test_tokens_written_before_the_allow_list_still_merge() -> None:
    clean = {"id": "rev-1", "rooms": [{"room_type_id": "rt-1"}]}
    older = {"customer": {"name": "Ada"}, "room_guests": [[{"name": "Ada"}]]}

    merged = merge_personal(clean, older)

    assert merged["customer"] == {"name": "Ada"}
    assert merged["rooms"] == [{"room_type_id": "rt-1", "guests": [{"name": "Ada"}]}]
