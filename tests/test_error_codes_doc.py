"""The integration guide's error tables list exactly the codes the API can answer.

The codes are read from the source (every `AppError(...)`, `conflict(...)`, `not_found(...)`,
`invalid(...)` and `FieldError(...)` call, the HTTP status map and the defaults of
app/errors.py and app/api/errors.py), so a new code without a row in docs/integration.md, or a
row for a code no longer raised, fails here. The sandbox (app/sandbox) is left out: its
errors are Channex's, not this API's; so is the operator console (app/console), whose pages
are for people, not for a PMS.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "integration.md"
PROBLEM_SECTION = "## Error codes"
FIELD_SECTION = "### Codes in `errors[]`"
# Helpers of app/errors.py whose code is fixed, and the code each gives.
FIXED = {"not_found": "not_found", "invalid": "validation_error"}
# Helpers whose code is their first argument.
CODE_FIRST = {"conflict"}


def _source_files() -> list[Path]:
    return [
        p for p in sorted((ROOT / "app").rglob("*.py")) if not {"sandbox", "console"} & set(p.parts)
    ]


def _name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _argument(call: ast.Call, index: int, keyword: str) -> str | None:
    """The call's string literal at `index` or as `keyword`, if it gives one."""
    for kw in call.keywords:
        if kw.arg == keyword and isinstance(kw.value, ast.Constant):
            return str(kw.value.value)
    if len(call.args) > index:
        arg = call.args[index]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
    return None


def _problem_codes_of_call(call: ast.Call) -> set[str]:
    name = _name(call)
    if name in FIXED:
        return {FIXED[name]}
    found = None
    if name == "AppError":
        found = _argument(call, 1, "code")
    elif name in CODE_FIRST:
        found = _argument(call, 0, "code")
    return {found} if found else set()


def _http_status_codes(tree: ast.Module) -> set[str]:
    """The `_HTTP_CODES` map's values and the fallback given to its `.get()`."""
    codes: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_HTTP_CODES" for t in node.targets
        ):
            assert isinstance(node.value, ast.Dict)
            codes |= {str(v.value) for v in node.value.values if isinstance(v, ast.Constant)}
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "_HTTP_CODES"
        ):
            codes |= {_argument(node, 1, "default") or ""} - {""}
    return codes


def _class_default(tree: ast.Module, class_name: str) -> str | None:
    """The default of `code` in a dataclass, e.g. AppError's `internal_error`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if (
                    isinstance(item, ast.AnnAssign)
                    and isinstance(item.target, ast.Name)
                    and item.target.id == "code"
                    and isinstance(item.value, ast.Constant)
                ):
                    return str(item.value.value)
    return None


def source_codes() -> tuple[set[str], set[str]]:
    """(problem codes, codes of `errors[]` items) the API can answer."""
    problems: set[str] = set()
    fields: set[str] = set()
    for path in _source_files():
        tree = ast.parse(path.read_text(), str(path))
        problems |= _http_status_codes(tree)
        for name, bucket in (("AppError", problems), ("FieldError", fields)):
            default = _class_default(tree, name)
            if default:
                bucket.add(default)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                problems |= _problem_codes_of_call(node)
                if _name(node) == "FieldError":
                    fields |= {_argument(node, 2, "code") or ""} - {""}
    return problems, fields


def guide_codes(heading: str) -> set[str]:
    """The codes in the first column of the tables under `heading`, up to the next heading."""
    text = GUIDE.read_text()
    assert heading in text, f"{GUIDE.name} has no section {heading!r}"
    section = text.split(heading, 1)[1]
    section = re.split(r"\n#{2,3} ", section, maxsplit=1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


def test_the_source_scan_finds_the_codes_it_must() -> None:
    """A scanner that found nothing would let any table pass."""
    problems, fields = source_codes()
    assert {"validation_error", "not_found", "quota_exceeded", "channex_rate_limited",
            "internal_error", "http_error", "unsupported_media_type"} <= problems  # fmt: skip
    assert {"past", "beyond_horizon", "unmapped", "invalid", "channex_rejected"} <= fields


def test_every_problem_code_is_in_the_guide_and_no_other() -> None:
    problems, _ = source_codes()
    documented = guide_codes(PROBLEM_SECTION)
    assert sorted(problems - documented) == [], "codes the API answers, missing from the guide"
    assert sorted(documented - problems) == [], "codes in the guide the API never answers"


def test_every_field_code_is_in_the_guide_and_no_other() -> None:
    _, fields = source_codes()
    documented = guide_codes(FIELD_SECTION)
    assert sorted(fields - documented) == [], "field codes missing from the guide"
    assert sorted(documented - fields) == [], "field codes in the guide the API never gives"
