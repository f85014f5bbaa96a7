"""`smartbms schema`: the JSON Schema of a result file, as committed under docs/schemas/."""

import json
import sys

import click


@click.command("schema")
@click.argument("what", type=click.Choice(["summary"]))
def schema(what: str) -> int:
    """Print the JSON Schema of a result file (summary: summary.json)."""
    from smartbms.sim.summary import Summary  # noqa: PLC0415

    del what  # one choice today; click keeps other names out
    sys.stdout.write(schema_text(Summary.json_schema()))
    return 0


def schema_text(schema: dict[str, object]) -> str:
    """A schema as the committed file has it: two-space indents, keys in order, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
