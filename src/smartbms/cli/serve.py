"""`smartbms serve`: a live twin of an installation, operated through a VictronConnect-like app.

The twin runs in real time (`--speed` times faster) for as long as the server runs; the app's
pages and JSON API are in `smartbms.app` (docs/app.md). Settings, PIN and Instant Readout keys
persist in `--state`. A user error is one sentence on stderr and exit status 2; Ctrl-C stops the
server cleanly (every stream ends) with status 130.
"""

import math
from pathlib import Path

import click

from smartbms.cli.console import EXIT_INTERRUPTED, say_error
from smartbms.cli.readout import record_option
from smartbms.cli.run import demo_scenario

ADVERTISE_FORMS = ("bluez", "bluez:ADAPTER", "capture:FILE")


@click.command()
@click.argument(
    "scenario", required=False, type=click.Path(path_type=Path, dir_okay=False, exists=True)
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (beyond loopback, anyone who can reach it can watch and try PINs).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    help="Simulated seconds per wall-clock second (changeable in the app).",
)
@click.option(
    "--state",
    "state_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for the settings, PIN and keys  [default: a per-user data folder]",
)
@click.option("--replay", is_flag=True, help="Also play the scenario's timeline.")
@click.option(
    "--advertise",
    metavar="bluez|bluez:ADAPTER|capture:FILE",
    default=None,
    help="Broadcast Instant Readout advertisements of the BMS and its batteries "
    "(docs/instant-readout.md).",
)
@record_option
def serve(  # click passes every option by name
    *,
    scenario: Path | None,
    host: str,
    port: int,
    speed: float,
    state_dir: Path | None,
    replay: bool,
    advertise: str | None,
    record: int,
) -> int:
    """Run a live twin of SCENARIO (default: the manual's Figure 1) with its web app."""
    try:
        from smartbms.app import memory, server  # noqa: PLC0415  # the serve extra
    except ImportError as error:
        say_error(
            f"smartbms serve needs the serve extra ({error.name} is missing): "
            "pip install 'smartbms[serve]'"
        )
        return 2
    from smartbms.scenario import ScenarioError  # noqa: PLC0415

    if not (math.isfinite(speed) and 0.0 < speed <= 10_000.0):
        say_error(f"--speed must be a number above 0 and at most 10000, not {speed:g}")
        return 2
    problem = advertise_problem(advertise)
    if problem:
        say_error(problem)
        return 2
    folder = state_dir if state_dir is not None else memory.default_state_folder()
    try:
        ctx = server.build_context(
            scenario or demo_scenario(), speed=speed, state_dir=folder, replay=replay
        )
    except ScenarioError as error:
        say_error(str(error))
        return 2
    except OSError as error:
        say_error(f"cannot use the state folder {folder}: {error.strerror or error}")
        return 2
    ctx.advertise, ctx.advertise_record = advertise, record
    try:
        started = server.serve(
            ctx,
            host=host,
            port=port,
            announce=click.echo,
            warn=lambda text: click.echo(text, err=True),
        )
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
        return EXIT_INTERRUPTED
    if not started:
        say_error(f"cannot listen on {host}:{port} (is another server using it?)")
        return 2
    return 0


def advertise_problem(spec: str | None) -> str:
    """Why `--advertise SPEC` cannot work here, or ''."""
    if spec is None:
        return ""
    kind, _, arg = spec.partition(":")
    if kind == "capture" and arg:
        return ""
    if kind == "bluez":
        try:
            import cryptography  # noqa: F401, PLC0415
            import dbus_fast  # noqa: F401, PLC0415  # the bluez extra
        except ImportError as error:
            return (
                f"--advertise bluez needs the bluez extra ({error.name} is missing): "
                "pip install 'smartbms[bluez]'"
            )
        return ""
    return f"--advertise {spec!r} is not one of: {', '.join(ADVERTISE_FORMS)}"
