"""Reading a scenario: `load_scenario` (a file) and `parse_scenario` (a text)."""

import tomllib
from pathlib import Path

from pydantic import ValidationError

from smartbms.scenario.base import _tuples
from smartbms.scenario.errors import ScenarioError, _syntax_error, _translate
from smartbms.scenario.locate import _Locator
from smartbms.scenario.model import Scenario


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario file (a `Path` or a str); every problem is a `ScenarioError`."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        msg = f"not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        raise ScenarioError(source, None, "", msg) from None
    except OSError as exc:
        raise ScenarioError(source, None, "", f"cannot read the file: {exc.strerror}") from None
    return parse_scenario(text, source)


def parse_scenario(text: str, source: str) -> Scenario:
    """Validate scenario text; `source` names it in messages (usually the file's path)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(str(exc), text, source) from None
    try:
        return Scenario.model_validate(_tuples(raw))
    except ValidationError as exc:
        raise _translate(exc, _Locator(text), source, Scenario) from None
