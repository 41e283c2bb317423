"""The interactive page, served by ``lunarsim app`` (Solara).

Choose a scenario and, to compare, a second one run on the same seed; move the parameters
(sliders over the ranges of sim/scenario/calibration.toml); step, run to the horizon or reset; watch
welfare, cooperation, incidents, the rare-earth price and leverage over time, who cooperates
with whom, and who works which ice site. Every number is the model's own at the step shown:
the command under each scenario gives the same numbers from ``lunarsim run``.

Solara directly rather than Mesa's SolaraViz: SolaraViz runs one model, and the page runs two
side by side on one seed; its component API also differs between Mesa 3.3 and 3.5.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import solara

from sim.analysis.results import scenario_styles
from sim.app import figures
from sim.app.session import KEY, SLIDER_STEPS, Control, Session, choices, shown_choices
from sim.base.errors import UserError
from sim.experiment.run import NATION_ROWS, headline, nation_rows

NONE = "(none)"
# Files named on `lunarsim app`'s command line, checked there, passed on by the environment
EXTRA = tuple(Path(p) for p in json.loads(os.environ.get("LUNARSIM_APP_SCENARIOS", "[]")))
OFFERED = list(choices(EXTRA))
SHOWN = shown_choices(OFFERED)  # each choice in words: the report's label, a file's name
CHOSEN = {words: choice for choice, words in SHOWN.items()}

first = solara.reactive(SHOWN[str(EXTRA[0]) if EXTRA else "baseline"])
second = solara.reactive(SHOWN["open_access"] if not EXTRA and "open_access" in OFFERED
                         else NONE)
seed = solara.reactive(0)
values: solara.Reactive[dict[str, float]] = solara.reactive({})
restarts = solara.reactive(0)  # Reset builds the models again
ticks = solara.reactive(0)  # counts steps taken, so that what shows them is drawn again


def build(names: tuple[str, ...], seed_: int, moved: tuple[tuple[str, float], ...],
          _restart: int) -> Session | str:
    """The session for these choices, or the one-line reason it cannot be built."""
    try:
        return Session(list(names), seed_, dict(moved), EXTRA)
    except UserError as err:
        return str(err)


@solara.component
def Page():
    solara.Title("lunarsim")
    names = (CHOSEN[first.value],) + (() if second.value in (NONE, first.value)
                                      else (CHOSEN[second.value],))
    moved = tuple(sorted(values.value.items()))
    session = solara.use_memo(lambda: build(names, seed.value, moved, restarts.value),
                              dependencies=[names, seed.value, moved, restarts.value])
    with solara.Sidebar():
        Choices()
        if isinstance(session, Session):
            Steps(session)
            Parameters(session)
    with solara.Column(style={"padding": "12px", "max-width": "1280px"}):
        solara.HTML(tag="h2", unsafe_innerHTML="lunarsim: competition and cooperation over lunar "
                    "resources")
        if isinstance(session, str):
            solara.Error(session, classes=["lunarsim-error"])
            return
        Results(session)


@solara.component
def Choices():
    solara.Select("Scenario", values=list(SHOWN.values()), value=first)
    solara.Select("Compare with (same seed)", values=[NONE, *SHOWN.values()], value=second)
    solara.InputInt("Seed", value=seed, on_value=lambda v: seed.set(max(int(v or 0), 0)))


@solara.component
def Steps(session: Session):
    per_year = session.sides[0].model.steps_per_year
    _ = ticks.value  # drawn again after every step: the buttons stop at the horizon

    def advance(count: int) -> None:
        session.step(count)  # the page waits for it: a click cannot come in between
        ticks.set(ticks.value + 1)

    with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
        solara.Button("Step", on_click=lambda: advance(1), disabled=session.done,
                      classes=["lunarsim-step"])
        solara.Button("+1 year", on_click=lambda: advance(per_year),
                      disabled=session.done, classes=["lunarsim-year"])
        solara.Button("Run to end", on_click=lambda: advance(session.horizon),
                      disabled=session.done, classes=["lunarsim-run"])
        solara.Button("Reset", on_click=lambda: (restarts.set(restarts.value + 1),
                                                 ticks.set(ticks.value + 1)),
                      classes=["lunarsim-reset"])


@solara.component
def Parameters(session: Session):
    Paragraph("Moving a parameter starts the run again at step 0.", "font-size: 0.85rem")
    if values.value:
        solara.Button("Back to the scenario's values", text=True,
                      on_click=lambda: values.set({}), classes=["lunarsim-defaults"])
    key = [c for c in session.controls if _is_key(c)]
    rest = [c for c in session.controls if not _is_key(c)]
    for control in key:
        Slider(control)
    with solara.Details("All parameters"):
        for control in rest:
            Slider(control)


def _is_key(control: Control) -> bool:
    return control.name in KEY


@solara.component
def Slider(control: Control):
    value = values.value.get(control.name, control.default)
    here = round(control.position(value) * SLIDER_STEPS)

    def move(position: int) -> None:
        if position != here:  # a slider also reports where it already is: not a move
            values.set(values.value | {control.name: control.value(position / SLIDER_STEPS)})

    with solara.Div(classes=["lunarsim-parameter"], attributes={"data-name": control.name},
                    style={"margin-bottom": "6px"}):
        Paragraph(f"{control.parameter.label}: {control.text(value)}",
                  style="margin: 0; font-size: 0.85rem")
        solara.SliderInt("", value=here, min=0, max=SLIDER_STEPS, on_value=move,
                         thumb_label=False)


def Paragraph(text: str, style: str = "", classes: list[str] | None = None):
    """User text shown literally (no Markdown, no HTML)."""
    return solara.HTML(tag="p", unsafe_innerHTML=html.escape(text), style=style,
                       classes=classes or [])


@solara.component
def Results(session: Session):
    tick = ticks.value  # drawn again after every step
    model = session.sides[0].model
    Paragraph(f"Step {session.steps} of {session.horizon} · year {model.year:g} · seed "
              f"{session.seed}", "font-weight: bold", ["lunarsim-status"])
    with solara.Columns([1] * len(session.sides)):
        for k, side in enumerate(session.sides):
            Summary(session, k, tick)
    over_time = solara.use_memo(lambda: figures.over_time(session), dependencies=[session, tick])
    with solara.Div(classes=["lunarsim-figure-time"]):
        solara.FigureMatplotlib(over_time, dependencies=[session, tick], format="png")
    with solara.Columns([1] * len(session.sides)):
        for k, side in enumerate(session.sides):
            with solara.Column():
                SideFigures(session, k, tick)


@solara.component
def SideFigures(session: Session, k: int, tick: int):
    side = session.sides[k]
    matrix = solara.use_memo(lambda: figures.cooperation_matrix(side), dependencies=[session, tick])
    sites = solara.use_memo(lambda: figures.site_map(side), dependencies=[session, tick])
    solara.FigureMatplotlib(matrix, dependencies=[session, tick], format="png")
    solara.FigureMatplotlib(sites, dependencies=[session, tick], format="png")


@solara.component
def Summary(session: Session, k: int, tick: int):
    """A scenario's outcomes to date, as ``lunarsim run`` prints them, and that command."""
    side = session.sides[k]
    items = "".join(
        f'<li><span>{html.escape(what)}</span> <b class="lunarsim-value" '
        f'data-what="{html.escape(what)}">{html.escape(value)}</b></li>'
        for what, value in headline(side.result))
    cell = "padding: 1px 6px; text-align: {}"
    head = "".join(f'<th style="{cell.format(align)}">{html.escape(h)}</th>' for h, align in
                   [("nation", "left"), ("bloc", "left")]
                   + [(heading, "right") for heading, _, _ in NATION_ROWS])
    rows = "".join("<tr>" + "".join(
        f'<td style="{cell.format("left" if i < 2 else "right")}">{html.escape(text)}</td>'
        for i, text in enumerate(row)) + "</tr>" for row in nation_rows(side.result))
    command = session.command(k)
    if command:
        same = f"<p>The same numbers: <code>{html.escape(command)}</code></p>"
    elif session.steps:
        same = ("<p>A moved parameter has no one-field <code>--set</code>: an experiment "
                "file's <code>[[design]]</code> point gives the same run.</p>")
    else:
        same = "<p>Step to start the run.</p>"
    solara.HTML(
        tag="div", classes=["lunarsim-summary"], attributes={"data-side": str(k)},
        unsafe_innerHTML=f"<h3>{html.escape(scenario_styles([side.name])[side.name][0])}</h3>"
        f"<ul class='lunarsim-headline'>{items}</ul>"
        f"<table class='lunarsim-nations'><tr>{head}</tr>{rows}</table>{same}",
        style="font-size: 0.85rem")
