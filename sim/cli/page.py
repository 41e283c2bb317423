"""``lunarsim app``: serve the interactive page (Solara) in a child process."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from sim.base.errors import RunFailed, UserError
from sim.cli.console import say, user_errors


@user_errors
def app_command(
    scenarios: Annotated[list[Path] | None, typer.Argument(
        help="scenario files to offer beside the library's (the first is shown first)")] = None,
    host: Annotated[str, typer.Option(help="address to serve on (127.0.0.1: this machine only)")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port (0: any free one)")] = 8765,
) -> None:
    """Serve the interactive page: choose a scenario and one to compare on the same seed, move
    the parameters over their calibrated ranges, step, and watch welfare, cooperation, the
    sites and the rare-earth market. Needs the app extra: pip install -e '.\\[app]'."""
    import importlib.util
    import socket
    import subprocess

    from sim.scenario import find_scenario, load_scenario

    if importlib.util.find_spec("solara") is None:
        raise UserError("the interactive page needs Solara, from the app extra: "
                        "pip install -e '.[app]'")
    if not host.strip() or host != host.strip():
        raise UserError(f"--host {host!r}: name an address (127.0.0.1: this machine only; "
                        "0.0.0.0: every interface)")
    files = [find_scenario(path) for path in scenarios or []]
    for path in files:
        load_scenario(path)  # a bad file is named now, not in the page
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
            port = probe.getsockname()[1]
    except (OSError, UnicodeError) as err:
        raise UserError(f"--host {host} --port {port}: cannot serve there "
                        f"({err.strerror or err})") from None
    env = os.environ | {"LUNARSIM_APP_SCENARIOS": json.dumps([str(p.resolve()) for p in files]),
                        # no reports to Solara's makers, no id file in the user's home
                        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
                        "SOLARA_TELEMETRY_SERVER_USER_ID": "lunarsim",
                        # Solara's "runs on Solara" banner covered the incidents chart
                        "SOLARA_THEME_SHOW_BANNER": "False"}
    shown = f"[{host}]" if ":" in host else host
    say("the page: ", (f"http://{shown}:{port}", "bold"), " (Ctrl-C stops it)")
    command = [sys.executable, "-m", "solara", "run", "sim.app.page", "--host", host,
               "--port", str(port), "--production", "--no-open", "--no-check-version",
               "--log-level", "warning"]
    try:
        code = subprocess.run(command, env=env, check=False,
                              preexec_fn=_dies_with(os.getpid())).returncode
    except KeyboardInterrupt:
        code = 0
    if code not in (0, -signal.SIGINT, 130):
        raise RunFailed(f"the page's server stopped with exit code {code}")


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _dies_with(parent: int) -> Callable[[], None] | None:
    """What the server's process runs before it starts (Linux): the kernel sends it SIGTERM
    when ``parent``, this lunarsim, dies however it dies (``kill -9`` included), so no page is
    left serving a port nobody started. None elsewhere: there Ctrl-C and SIGTERM stop it."""
    if not sys.platform.startswith("linux"):
        return None

    def set_death_signal() -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # lunarsim died before the signal was set
            os._exit(1)

    return set_death_signal
