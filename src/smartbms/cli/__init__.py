"""The `smartbms` command: one click group, one module per command.

A new command is a click command in its own module here, registered below with one line. `main`
returns the exit status instead of exiting, so tests call it in-process: 0 done, 1 the run or
check found a problem, 2 the user's input was wrong (one clear line on stderr), 130 Ctrl-C.
"""

import sys
from collections.abc import Sequence

import click

from smartbms import __version__
from smartbms.cli.check import check
from smartbms.cli.codes import codes
from smartbms.cli.console import EXIT_INTERRUPTED, make_console
from smartbms.cli.controller_demo import controller_demo
from smartbms.cli.readout import readout
from smartbms.cli.run import demo, simulate
from smartbms.cli.schema import schema
from smartbms.cli.serve import serve
from smartbms.cli.sweep import compare, sweep

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(
    context_settings=CONTEXT,
    invoke_without_command=True,
    no_args_is_help=False,
)
@click.version_option(__version__, prog_name="smartbms", message="%(prog)s %(version)s")
@click.pass_context
def cli(context: click.Context) -> None:
    """An open, faithful software Victron Smart BMS 12-200 and its 12 V system."""
    if context.invoked_subcommand is None:
        click.echo(context.get_help())


cli.add_command(codes)
cli.add_command(simulate)
cli.add_command(demo)
cli.add_command(controller_demo)
cli.add_command(schema)
cli.add_command(readout)
cli.add_command(serve)
cli.add_command(check)
cli.add_command(sweep)
cli.add_command(compare)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args=args, prog_name="smartbms", standalone_mode=False)
    except click.exceptions.Exit as done:  # --help, --version
        return done.exit_code
    except click.UsageError as error:  # a wrong option or argument: click's own clear message
        error.show()
        return 2
    except click.Abort:  # Ctrl-C at a prompt, or click's own abort
        make_console(stderr=True).print("Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `smartbms codes | head`
        return 0
    except KeyboardInterrupt:  # Ctrl-C outside a run (a run handles its own): no traceback
        make_console(stderr=True).print("Interrupted.")
        return EXIT_INTERRUPTED
    return result if isinstance(result, int) else 0
