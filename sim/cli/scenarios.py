"""``lunarsim scenarios``: list the library, show a scenario as the model sees it, validate
files, and write the JSON Schema of scenario files."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from sim.base.errors import UserError
from sim.cli.console import HELP, error, out_console, say, user_errors

app = typer.Typer(no_args_is_help=True, context_settings=HELP,
                  help="List, show, validate and describe scenario files.")
SCHEMA_MARK = "JSON Schema of lunarsim scenario files"  # marks the file as lunarsim's


@app.command("list")
@user_errors
def scenarios_list() -> None:
    """Every scenario in the library, with its one-line description."""
    from sim.scenario import library, load_scenario

    table = Table()
    table.add_column("name")
    table.add_column("regime")
    table.add_column("description")
    broken = []
    for name, path in library().items():
        try:
            spec = load_scenario(path)
        except UserError as err:  # one bad file does not hide the others
            broken.append(err)
            table.add_row(Text(name), Text("-"), Text("invalid: see below"))
            continue
        first = spec.description.strip().splitlines()[0] if spec.description.strip() else ""
        table.add_row(Text(name), Text(spec.regime.name), Text(first))
    out_console.print(table)
    for err in broken:
        error(err)
    if broken:
        raise typer.Exit(2)


@app.command("show")
@user_errors
def scenarios_show(
    name: Annotated[str, typer.Argument(help="scenario file or library name")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="override: key.path=value")] = None,
) -> None:
    """The scenario as the model sees it: inheritance and overrides applied, defaults filled in."""
    from sim.scenario import content_hash, load_scenario

    spec = load_scenario(name, tuple(set_ or ()))
    payload = spec.model_dump(mode="json") | {"sha256": content_hash(spec)}
    out_console.print_json(json.dumps(payload))


@app.command("validate")
def scenarios_validate(
    files: Annotated[list[str], typer.Argument(help="scenario files or library names")],
) -> None:
    """Check scenario files: one line for each valid file, one for each problem of an invalid
    one. Exit code 2 if any is invalid."""
    from sim.scenario import load_scenario

    failed = 0
    for ref in files:
        try:
            spec = load_scenario(ref)
        except UserError as err:
            failed += 1
            for line in err.problems or [str(err)]:  # every problem, one line each
                error(line)
        else:
            say(f"ok  {ref}: {spec.name}, {len(spec.nations)} nations, {len(spec.sites)} sites, "
                f"{spec.steps} steps, regime {spec.regime.name}")
    if failed:
        raise typer.Exit(2)


@app.command("schema")
@user_errors
def scenarios_schema(
    out: Annotated[Path | None, typer.Option(help="write to this file instead of printing")] = None,
) -> None:
    """The JSON Schema of scenario files (for editors: Taplo / Even Better TOML)."""
    from sim.base.io import atomic_write_bytes, check_replaceable_file, writing_to
    from sim.scenario import Scenario

    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema"} | Scenario.model_json_schema()
    text = json.dumps({"$comment": _schema_mark(schema)} | schema, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        check_replaceable_file(out, _is_schema, f"--out {out}")
        with writing_to(f"--out {out}"):
            atomic_write_bytes(out, text.encode())
        say(f"wrote {out}")


def _schema_mark(schema: dict[str, Any]) -> str:
    """The schema's ``$comment``: lunarsim's mark with the SHA-256 of the rest, so that a
    schema the user has extended is not replaced."""
    digest = hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()
    return f"{SCHEMA_MARK} (sha256 {digest})"


def _is_schema(data: bytes) -> bool:
    """A scenario schema lunarsim wrote and nobody changed since."""
    try:
        schema = json.loads(data)
        comment = schema.pop("$comment")
    except (ValueError, AttributeError, KeyError, RecursionError):
        return False
    return isinstance(schema, dict) and comment == _schema_mark(schema)
