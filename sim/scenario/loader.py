"""Reading scenario files: TOML, ``extends`` inheritance, ``--set`` overrides, one-line errors.

Inheritance merges tables key by key. Lists of named tables (``nations``, ``sites``, ``laws``)
merge by ``name``: an entry naming an inherited item overrides only the keys it gives, a new name
is appended. Events have no name to merge by: a file whose parent has events and that gives its
own (``[[events]]``, or ``events = []``) must say ``inherit_events = true`` (its events are added
after the inherited ones) or ``false`` (they replace them); ``inherit_events = false`` alone
drops the inherited events. Other lists (``members``) are replaced whole. A table whose ``name``
differs from the inherited one (``strategy = "always_compete"`` over a ``tit_for_tat`` table)
replaces it, so parameters of the old kind do not leak into the new one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.base.errors import BadType, UserError
from sim.scenario.schema import Scenario, quote_key

NAMED_LISTS = ("nations", "sites", "laws")  # lists of tables merged by their `name`
NAMED_SPECS = ("strategy", "regime")  # `name` picks a kind from a registry


def library_dir() -> Path:
    """The scenario library: ``$LUNARSIM_SCENARIOS``, else the repository's ``scenarios/``."""
    env = os.environ.get("LUNARSIM_SCENARIOS")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2] / "scenarios"
    return repo if repo.is_dir() else Path.cwd() / "scenarios"


def library() -> dict[str, Path]:
    """Scenario name -> file, for every scenario in the library."""
    return {p.stem: p for p in sorted(library_dir().glob("*.toml"))}


def find_scenario(ref: str | Path, base_dir: Path | None = None) -> Path:
    """Resolve a path, or a bare name looked up beside ``base_dir`` and then in the library."""
    ref = str(ref)
    looks_like_path = ref.endswith(".toml") or os.sep in ref or "/" in ref
    if looks_like_path:
        path = (base_dir / ref) if base_dir and not Path(ref).is_absolute() else Path(ref)
        if not is_file(path):
            raise UserError(f"{path}: no such scenario file")
        return path
    for folder in ([base_dir] if base_dir else []) + [library_dir()]:
        candidate = folder / f"{ref}.toml"
        if is_file(candidate):
            return candidate
    known = ", ".join(library()) or "none"
    raise UserError(f"{ref}: no scenario file or library scenario of that name (library: {known})")


def is_file(path: Path) -> bool:
    """Whether ``path`` is a file; False for a name the system cannot even look up."""
    try:
        return path.is_file()
    except OSError:  # e.g. a name longer than the file system allows
        return False


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file (a scenario or an experiment), decoded as UTF-8 as TOML requires; every way
    it can fail is a UserError naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read: {err.strerror or err}") from None
    text = decode_utf8(data, path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{path}: TOML syntax error: {err}") from None
    except ValueError:  # an integer of more than 4300 digits, which Python will not convert
        raise UserError(f"{path}: not a usable TOML file: a number with thousands of digits") from None
    except RecursionError:
        raise UserError(f"{path}: nested too deeply to be a scenario") from None


UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


def decode_utf8(data: bytes, path: Path) -> str:
    """``data`` as UTF-8 text (a leading UTF-8 byte-order mark, which some editors write, is
    dropped); text in another encoding is refused naming the encoding it is in, where that can
    be told, and the place of the first byte that is not UTF-8."""
    hint = "TOML files are UTF-8: save it as UTF-8 (in most editors: Save As, Encoding)"
    if data.startswith(UTF16_MARKS) or (len(data) > 1 and b"\x00" in data[:2]):
        raise UserError(f"{path}: encoded as UTF-16; {hint}")
    if b"\x00" in data:
        raise UserError(f"{path}: holds NUL bytes: not a text file; {hint}")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise UserError(f"{path}: not UTF-8 (byte 0x{data[err.start]:02x} on line {line}: Latin-1 or "
                        f"Windows-1252 text, perhaps); {hint}") from None


def merge(base: Any, override: Any) -> Any:
    """``override`` laid over ``base`` (neither is changed); the rules are in the module doc."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = copy.deepcopy(base)
        for key, value in override.items():
            if key in NAMED_LISTS and isinstance(value, list) and isinstance(out.get(key), list):
                out[key] = _merge_named(out[key], value)
            elif key in out and not (key in NAMED_SPECS and _other_kind(out[key], value)):
                out[key] = merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


def _other_kind(base: Any, override: Any) -> bool:
    """A named spec of another kind replaces the inherited one instead of merging into it."""
    name = override.get("name") if isinstance(override, dict) else override
    old = base.get("name") if isinstance(base, dict) else base
    return name is not None and name != old


def _merge_named(base: list[Any], override: list[Any]) -> list[Any]:
    out = copy.deepcopy(base)
    where = {item.get("name"): k for k, item in enumerate(out) if isinstance(item, dict)}
    for item in override:
        name = item.get("name") if isinstance(item, dict) else None
        if name in where:
            out[where[name]] = merge(out[where[name]], item)
        else:
            out.append(copy.deepcopy(item))
    return out


class _Circular(UserError):
    """A circular ``extends`` chain: its message already names the whole chain."""


def resolve_raw(path: Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's table with everything it ``extends`` merged beneath it."""
    path = path.resolve()
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise _Circular(f"{_chain[-1]}: extends: circular extends {cycle}")
    raw = read_toml(path)
    raw.setdefault("name", path.stem)
    for key in NAMED_LISTS:  # [nations."China"] reads as --set's path does, but is not a list
        if isinstance(raw.get(key), dict):
            first = next(iter(raw[key]), "NAME")
            raise UserError(f'{path}: {key}: write each as a [[{key}]] table with its name '
                            f'(name = "{first}" under [[{key}]]), not as [{key}."{first}"]')
    parent_ref = raw.get("extends")
    if parent_ref is None:
        if "inherit_events" in raw:
            raise UserError(f"{path}: inherit_events: only a file that extends another "
                            "inherits events")
        return raw
    if not isinstance(parent_ref, str):
        raise UserError(f"{path}: extends: must be a scenario name or path")
    try:
        parent_path = find_scenario(parent_ref, base_dir=path.parent)
    except UserError as err:
        raise UserError(f"{path}: extends: {err}") from None
    try:
        parent = resolve_raw(parent_path, (*_chain, path))
    except _Circular:
        raise
    except UserError as err:  # say which scenario reached the broken file
        raise UserError(f"{path}: extends: {err}") from None
    parent.pop("description", None)
    return merge(parent, _with_events(path, raw, parent))


def _with_events(path: Path, raw: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with its ``events`` resolved against the parent's (see the module doc)."""
    inherit = raw.get("inherit_events")
    if inherit is not None and not isinstance(inherit, bool):
        raise UserError(f"{path}: inherit_events: expected true or false, got {inherit!r}")
    inherited = parent.get("events")
    if not isinstance(inherited, list) or not inherited or inherit is True and "events" not in raw:
        return raw
    if "events" in raw and inherit is None:
        count = f"{len(inherited)} event{'s' if len(inherited) != 1 else ''}"
        raise UserError(f"{path}: events: the scenario it extends ({raw['extends']}) has {count};"
                        " add inherit_events = true to keep them and add these, or false to "
                        "replace them")
    raw = dict(raw)
    own = raw.get("events", [])
    if inherit and isinstance(own, list):
        raw["events"] = copy.deepcopy(inherited) + own
    elif inherit is False:
        raw["events"] = own
    return raw


# --- overrides -------------------------------------------------------------------------------


def split_path(dotted: str) -> list[str]:
    """``nations."United States".budget_usd_bn`` -> ``["nations", "United States", "budget_usd_bn"]``.

    Keys are bare words or quoted TOML strings (with ``\\"`` for a quote inside), as TOML's
    own dotted keys are.
    """
    parts: list[str] = []
    rest = dotted.strip()
    while True:
        if rest.startswith('"'):
            key, rest = _quoted(rest, dotted)
        else:
            key, dot, tail = rest.partition(".")
            rest = dot + tail
            key = key.strip()
            if not key or '"' in key:
                raise ValueError(f"malformed key path {dotted!r}")
        parts.append(key)
        rest = rest.lstrip()
        if not rest:
            return parts
        if not rest.startswith("."):
            raise ValueError(f"malformed key path {dotted!r}")
        rest = rest[1:].lstrip()


def _quoted(text: str, dotted: str) -> tuple[str, str]:
    """Split a leading quoted key (a JSON/TOML basic string) from the rest of ``text``."""
    try:
        key, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        raise ValueError(f"malformed key path {dotted!r}") from None
    if not isinstance(key, str):
        raise ValueError(f"malformed key path {dotted!r}")
    return key, text[end:]


def parse_value(text: str) -> Any:
    """A TOML value (``0.2``, ``true``, ``"x"``, ``[1, 2]``); anything else is a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (ValueError, RecursionError):  # not a TOML value (TOMLDecodeError is a ValueError)
        return text


def apply_override(raw: dict[str, Any], assignment: str) -> str:
    """Apply one ``key.path=value`` to the raw table, in place; return the key as an error
    names the field (list entries by name: ``sites.0.kind`` -> ``sites.S.kind``)."""
    origin = set_origin(assignment)
    if "=" not in assignment:
        raise UserError(f"{origin}: expected key.path=value")
    key, _, text = assignment.partition("=")
    key = key.strip()
    if key.split(".")[0].strip() == "extends":
        raise UserError(f"{origin}: extends is resolved before --set applies; write a scenario "
                        "file that extends another")
    value = parse_value(text.strip())
    indexed = _indexed(raw, key)  # the entries it names, before --set renames any of them
    set_path(raw, key, value, origin)
    return ".".join(quote_key(part) for part in _by_name(raw, indexed))


def _indexed(raw: dict[str, Any], key: str) -> list[str]:
    """A dotted path with the entries of lists named by their index (as far as it resolves)."""
    try:
        parts = split_path(key)
    except ValueError:
        return []
    out: list[str] = []
    node: Any = raw
    for part in parts:
        if isinstance(node, list):
            try:  # as --set resolves it; an entry it cannot find, --set itself reports
                k = _list_index(node, part, parts, "")
            except UserError:
                return out + [part]
            out.append(str(k))
            node = node[k]
        else:
            out.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _entry_name(item: Any) -> str | None:
    """The name an entry of a named list is shown by: its name, if it is a non-empty string."""
    name = item.get("name") if isinstance(item, dict) else None
    return name if isinstance(name, str) and name else None


def _by_name(raw: dict[str, Any], parts: list[str]) -> list[str]:
    """A path with list indexes into named lists replaced by the entries' names (an entry
    without a usable name keeps its index)."""
    out: list[str] = []
    node: Any = raw
    for part in parts:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            name = _entry_name(node)
            out.append(name if out and out[-1] in NAMED_LISTS and name else part)
        else:
            out.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def set_origin(assignment: str) -> str:
    """How an error names the ``--set`` that wrote a field (a very long one shortened)."""
    return f"--set {assignment if len(assignment) <= 100 else assignment[:80] + '...'}"


def set_path(raw: dict[str, Any], key: str, value: Any, origin: str) -> None:
    """Set the field at dotted ``key`` (list entries by name or index) to ``value``, in place.
    Errors name ``origin`` (where the assignment came from)."""
    try:
        parts = split_path(key)
    except ValueError as err:
        raise UserError(f"{origin}: {err}") from None
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        node = _child(node, part, parts[: depth + 1], origin)
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, last, parts, origin)] = copy.deepcopy(value)
    elif isinstance(node, dict):
        node[last] = copy.deepcopy(value)
    else:
        raise UserError(f"{origin}: {'.'.join(parts[:-1])} is not a table")


def _child(node: Any, part: str, so_far: list[str], origin: str) -> Any:
    if isinstance(node, list):
        return node[_list_index(node, part, so_far, origin)]
    if not isinstance(node, dict):
        raise UserError(f"{origin}: {'.'.join(so_far[:-1])} is not a table")
    if isinstance(node.get(part), str) and part in NAMED_SPECS:
        node[part] = {"name": node[part]}  # `strategy = "x"` is shorthand for `{ name = "x" }`
    return node.setdefault(part, {})


def _list_index(items: list[Any], part: str, so_far: list[str], origin: str) -> int:
    if part.isdigit() and int(part) < len(items):
        return int(part)
    for k, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return k
    where = ".".join(so_far[:-1]) or "the scenario"
    raise UserError(f"{origin}: {where} has no entry named {part!r}")


# --- validation ------------------------------------------------------------------------------


def validate(raw: dict[str, Any], source: str | Path,
             origins: dict[str, str] | None = None) -> Scenario:
    """Validate a merged raw table; any error becomes one line naming the field and where it came
    from: ``source``, or the origin (e.g. ``--set k=v``) of the key that wrote that field."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as err:
        def line(where: str, msg: str) -> str:
            # a rule across fields names its field first ("market.refining_share: ...")
            field = where or msg.split(": ", 1)[0] if ": " in msg else where
            origin = _origin_of(field, origins or {}) or str(source)
            return f"{origin}: {where}: {msg}" if where else f"{origin}: {msg}"

        problem = UserError(line(*describe(err, raw)))
        problem.problems = [line(*each) for each in describe_all(err, raw)]
        raise problem from None


def _origin_of(where: str, origins: dict[str, str]) -> str | None:
    """The origin of the last key that wrote the field at ``where`` (or a table holding it)."""
    if not where:
        return None
    at = split_path(where)
    for key, origin in reversed(origins.items()):
        wrote = split_path(key)
        if at[: len(wrote)] == wrote or wrote[: len(at)] == at:
            return origin
    return None


def describe(err: ValidationError, raw: dict[str, Any]) -> tuple[str, str]:
    """The first error as (field path written as a ``--set`` path, one-line message)."""
    errors = err.errors(include_url=False)
    where, msg = _describe_one(errors[0], raw)
    extra = len(errors) - 1
    more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    return where, msg + more


def describe_all(err: ValidationError, raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Every error as (field path, one-line message)."""
    return [_describe_one(e, raw) for e in err.errors(include_url=False)]


def _describe_one(first: dict[str, Any], raw: dict[str, Any]) -> tuple[str, str]:
    where = field_path(first["loc"], raw)
    kind, msg = first["type"], first["msg"]
    if kind == "extra_forbidden":
        msg = "unknown key"
    elif kind == "missing":
        msg = "required field is missing"
    else:
        msg = msg.removeprefix("Value error, ")
        got = first.get("input")
        if not isinstance(got, (dict, list, type(None))) and repr(got) not in msg:
            shown = repr(got)
            msg += f" (got {shown[:60]}...)" if len(shown) > 80 else f" (got {shown})"
    return where, msg


def field_path(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """``('nations', 2, 'budget_usd_bn')`` -> ``nations."United States".budget_usd_bn``."""
    parts: list[str] = []
    node: Any = raw
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            name = _entry_name(item)
            keyed = parts and parts[-1] in NAMED_LISTS and name is not None
            parts.append(quote_key(name) if keyed else str(part))
            node = item
        else:
            parts.append(quote_key(str(part)))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def load_scenario(ref: str | Path, overrides: list[str] | tuple[str, ...] | None = ()) -> Scenario:
    """Find, read, merge, override and validate a scenario. Raises :class:`UserError`."""
    if not isinstance(ref, str | Path):
        raise BadType(f"ref: expected a library name or a file path, got {type(ref).__name__}")
    overrides = () if overrides is None else overrides
    if isinstance(overrides, str) or not all(isinstance(o, str) for o in overrides):
        raise BadType("overrides: expected a list of 'key.path=value' strings, got "
                      f"{overrides!r:.60}")
    path = find_scenario(ref)
    raw = resolve_raw(path)
    origins = {apply_override(raw, assignment): set_origin(assignment) for assignment in overrides}
    return validate(raw, path, origins)


def with_changes(scenario: Scenario | str | Path, changes: dict[str, Any],
                 caller: str) -> Scenario:
    """The scenario as given, or read by name or path, with ``changes`` applied as keyword
    arguments of ``caller`` give them (``regime``: a regime's name; ``a__b``: the field at the
    dotted path ``a.b``). Raises :class:`UserError` naming ``caller(key=...)``."""
    if not isinstance(scenario, Scenario | str | Path):
        raise BadType(f"scenario: expected a Scenario, a library name or a file path, got "
                      f"{type(scenario).__name__}")
    if isinstance(scenario, Scenario) and not changes:
        return scenario
    if isinstance(scenario, Scenario):
        raw, source = scenario.model_dump(mode="json"), scenario.name
    else:
        source = find_scenario(scenario)
        raw = resolve_raw(source)
    origins = {}
    for key, value in changes.items():
        origin = f"{caller}({key}=...)"
        if key == "regime":
            raw["regime"] = {"name": value}
        else:
            set_path(raw, key.replace("__", "."), value, origin)
        origins[key.replace("__", ".")] = origin
    return validate(raw, source, origins)


def content_hash(scenario: Scenario) -> str:
    """SHA-256 of the validated scenario's canonical JSON: equal content, equal hash."""
    payload = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
