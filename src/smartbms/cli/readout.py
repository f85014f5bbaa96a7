"""`smartbms readout`: the Instant Readout advertisements of a scenario, and a decoder for them.

`readout show SCENARIO --at T` prints what every device (the BMS, each battery) would broadcast at
simulated time T; `readout decode HEX --key KEY` reads any advertisement smartbms emits. The
formats are in docs/instant-readout.md.
"""

import json
import math
import re
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from smartbms.cli.console import make_console, say_error

_TIME = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(s|min|h|d)?\s*")
_UNIT_S = {None: 1.0, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_RECORDS = {"0x0e": 0x0E, "0x0a": 0x0A, "14": 0x0E, "10": 0x0A}


def parse_time_s(text: str) -> float:
    """Seconds from "90", "90s", "90min", "1.5h" or "2d"; raises `click.BadParameter`."""
    match = _TIME.fullmatch(text)
    if match is None:
        msg = f"{text!r} is not a time; write seconds (5400) or with a unit: 90min, 1.5h, 2d"
        raise click.BadParameter(msg)
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def _record(_context: click.Context, _param: click.Parameter, value: str) -> int:
    try:
        return _RECORDS[value.lower()]
    except KeyError:
        msg = f"{value!r}: the BMS sends 0x0E (its own record) or 0x0A (Lynx-compatible)"
        raise click.BadParameter(msg) from None


def _time(_context: click.Context, _param: click.Parameter, value: str) -> float:
    return parse_time_s(value)


record_option = click.option(
    "--record",
    default="0x0E",
    metavar="0x0E|0x0A",
    show_default=True,
    callback=_record,
    help="The BMS record: 0x0E (its own) or 0x0A (Lynx Smart BMS layout, for today's decoders).",
)
"""`--record {0x0E,0x0A}` as an int (14 or 10); `serve --advertise` uses the same option."""


@click.group("readout")
def readout() -> None:
    """Instant Readout: the encrypted BLE advertisements of the BMS and its batteries."""


@readout.command("show")
@click.argument("scenario", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--at",
    "at_s",
    required=True,
    metavar="T",
    callback=_time,
    help="Simulated time: 5400, 90min, 1.5h, 2d.",
)
@record_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one list of devices).")
@click.option(
    "--keys",
    "keys_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="A key store folder (keys created there on first use). Without it: keys derived from "
    "the scenario's name, reproducible and not secret.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the nonce counters.")
def show(  # click passes the options by name
    *, scenario: Path, at_s: float, record: int, as_json: bool, keys_dir: Path | None, seed: int
) -> int:
    """Print every device's advertisement at simulated time --at."""
    from smartbms.adapters.readout import (  # noqa: PLC0415  # cryptography: only when asked
        Broadcaster,
        MemoryAdvertiser,
        derived_keys,
        device_ids,
    )
    from smartbms.core.units import duration_text  # noqa: PLC0415
    from smartbms.scenario import ScenarioError, load_scenario  # noqa: PLC0415
    from smartbms.twin import Twin  # noqa: PLC0415

    try:
        loaded = load_scenario(scenario)
    except ScenarioError as error:
        for paragraph in error.paragraphs():
            say_error(paragraph)
        return 2
    duration = loaded.scenario.duration_s
    if not 0.0 <= at_s <= duration or math.isinf(at_s):
        say_error(
            f"--at {duration_text(at_s)} is outside the scenario, which lasts "
            f"{duration_text(duration)}"
        )
        return 2
    twin = Twin.from_scenario(loaded)
    devices = device_ids(twin.state)
    name = loaded.scenario.name
    keys = derived_keys(name, devices) if keys_dir is None else _store_keys(keys_dir, devices)
    if keys is None:
        return 2
    memory = MemoryAdvertiser()
    broadcaster = Broadcaster(twin, memory, keys, record=record, seed=seed, interval_s=math.inf)
    twin.advance_to(at_s)
    frames = broadcaster.send(twin.state)
    broadcaster.close()
    listing = [frame.as_json() for frame in frames]
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return 0
    console = make_console()
    console.print(f"Instant Readout of {name!r} at {duration_text(at_s)}:")
    for entry in listing:
        _print_frame(console, entry)
    return 0


def _store_keys(folder: Path, devices: tuple[str, ...]) -> dict[str, bytes] | None:
    from smartbms.store.device_keys import KeyStore  # noqa: PLC0415

    try:
        return KeyStore(folder).load_or_create(devices)
    except (OSError, ValueError) as error:
        say_error(f"cannot use the key store {folder}: {error}")
        return None


def _print_frame(console: Console, entry: dict[str, Any]) -> None:
    console.print(
        Text.assemble(
            (f"{entry['device']}", "bold"),
            f"  {entry['address']}  record 0x{entry['record_type']:02X}  key {entry['key']}",
        )
    )
    console.print(Text(f"  {entry['manufacturer_data_hex']}"))
    console.print(Text("  " + _values_text(entry["values"])))


def _values_text(values: dict[str, Any]) -> str:
    return ", ".join(f"{name} {_value_text(value)}" for name, value in values.items())


def _value_text(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + " ".join(_value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} {_value_text(v)}" for k, v in value.items()) + "}"
    return str(value)


@readout.command("decode")
@click.argument("hex_data", metavar="HEX")
@click.option("--key", required=True, metavar="KEY", help="The device's key: 32 hex digits.")
@click.option("--json", "as_json", is_flag=True, help='Print {"record_type", "values"}.')
def decode(*, hex_data: str, key: str, as_json: bool) -> int:
    """Decode an advertisement smartbms emits (manufacturer data, starting with 10)."""
    from smartbms.codecs import readout as ro  # noqa: PLC0415

    digits = re.sub(r"[\s:]", "", hex_data).lower()
    if digits.startswith("e10210"):  # the company id pasted along
        digits = digits[4:]
    try:
        data = bytes.fromhex(digits)
    except ValueError:
        say_error(f"{hex_data!r} is not hex")
        return 2
    try:
        decoded = ro.decode(data, ro.parse_key(key))
    except ro.KeyMismatchError as error:
        say_error(str(error))
        return 1
    except ro.ReadoutError as error:
        say_error(str(error))
        return 2
    result = decoded.as_json()
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return 0
    container = decoded.container
    console = make_console()
    console.print(
        f"record 0x{container.record_type:02X}, product 0x{container.model_id:04X}, "
        f"nonce {container.nonce}"
    )
    for name, value in result["values"].items():
        console.print(Text(f"  {name}: {_value_text(value)}"))
    return 0
