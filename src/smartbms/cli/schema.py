"""`smartbms schema`: the JSON Schema of a result file, as committed under docs/schemas/."""

import json
import sys

import click


@click.command("schema")
@click.argument("what", type=click.Choice(["summary", "check"]))
def schema(what: str) -> int:
    """Print a JSON Schema: summary (a run's summary.json) or check (`check --format json`)."""
    if what == "check":
        from smartbms.check.findings import json_schema_text  # noqa: PLC0415

        sys.stdout.write(json_schema_text())
        return 0
    from smartbms.sim.summary import Summary  # noqa: PLC0415

    sys.stdout.write(schema_text(Summary.json_schema()))
    return 0


def schema_text(schema: dict[str, object]) -> str:
    """A schema as the committed file has it: two-space indents, keys in order, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
