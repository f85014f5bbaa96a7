"""The API's request and response bodies, as FastAPI documents them in `/openapi.json`."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool

from smartbms.core.settings import (
    CHARGE_LIMIT,
    FUSE_TYPE,
    PREALARM_MODE,
    PREALARM_USAGE,
    REMOTE_FUNCTION,
    ChoiceSpec,
)

_STRICT = ConfigDict(extra="forbid")


def _enum(spec: ChoiceSpec[Any]) -> dict[str, JsonValue]:
    labels: list[JsonValue] = [str(member.value) for member in spec.choices]
    return {"enum": labels}


class Problem(BaseModel):
    """Why a request was refused; `setting` and `allowed` name a refused setting's range."""

    detail: str
    setting: str | None = None
    allowed: str | None = None


class Led(BaseModel):
    """One front-panel LED."""

    name: str
    colour: str
    state: str = Field(json_schema_extra={"enum": ["off", "on", "blink"]})


class Message(BaseModel):
    """An active App. B code with its remedy."""

    code: str
    title: str
    cause: str
    remedy: str
    severity: str


class Status(BaseModel):
    """The status page (manual §3.5.1 step 4); `twin` is the cockpit's view of the van."""

    battery_voltage_v: float | None
    soft_switch_on: bool
    system_plus_on: bool
    alternator_voltage_v: float | None
    system_plus_voltage_v: float | None
    alternator_current_pct: float | None = Field(description="null while the fuse type is not set")
    leds: list[Led]
    messages: list[Message]
    sim_time_s: float | None
    clock: str
    fuse_type_prompt: bool
    twin: dict[str, Any]


class PairRequest(BaseModel):
    """The 6-digit PIN, as a string (leading zeros kept)."""

    model_config = _STRICT
    pin: str = Field(max_length=64)


class Paired(BaseModel):
    """Send `csrf_token` as the X-CSRF-Token header with every change."""

    csrf_token: str


class SessionInfo(BaseModel):
    """Whether this client is paired (and its CSRF token when it is)."""

    paired: bool
    csrf_token: str | None = None


class SettingsValues(BaseModel):
    """The BMS settings by their scenario-file `[bms]` names."""

    fuse_type: str = Field(json_schema_extra=_enum(FUSE_TYPE))
    charge_limit_v: float
    prealarm_usage: str = Field(json_schema_extra=_enum(PREALARM_USAGE))
    prealarm_mode: str = Field(json_schema_extra=_enum(PREALARM_MODE))
    remote_function: str = Field(json_schema_extra=_enum(REMOTE_FUNCTION))


class SettingsChange(BaseModel):
    """Any subset of the settings; all are checked before any is changed (CFG-2)."""

    model_config = _STRICT
    fuse_type: str | None = Field(default=None, description=FUSE_TYPE.allowed)
    charge_limit_v: float | None = Field(default=None, description=CHARGE_LIMIT.allowed)
    prealarm_usage: str | None = Field(default=None, description=PREALARM_USAGE.allowed)
    prealarm_mode: str | None = Field(default=None, description=PREALARM_MODE.allowed)
    remote_function: str | None = Field(default=None, description=REMOTE_FUNCTION.allowed)


class PinChange(BaseModel):
    """The PIN now and the new one (6 digits each, as strings)."""

    model_config = _STRICT
    old_pin: str = Field(max_length=64)
    new_pin: str = Field(max_length=64)


class Unpaired(BaseModel):
    """The session ended: pair again (with the new PIN after a PIN change or reset)."""

    paired: bool = False


class CommandRequest(BaseModel):
    """A twin command: `type` as a scenario timeline action, its fields beside it."""

    model_config = ConfigDict(extra="allow")
    type: str


class CommandResult(BaseModel):
    """The events the command caused."""

    events: list[dict[str, Any]]


class ClockChange(BaseModel):
    """Simulated seconds per wall second, and pause or resume."""

    model_config = _STRICT
    speed: float | None = Field(default=None, gt=0.0, le=10_000.0)
    paused: StrictBool | None = None


class ClockInfo(BaseModel):
    """The pace of simulated time."""

    speed: float
    paused: bool
    sim_time_s: float
    clock: str


class Battery(BaseModel):
    """One Lithium Battery Smart."""

    number: int
    model: str
    capacity_ah: float | None
    voltage_v: float | None
    current_a: float | None
    soc_pct: float | None
    cell_voltages_v: list[float | None]
    temperature_c: float | None
    balancer: str
    allowed_to_charge: bool
    allowed_to_discharge: bool
    prealarm: bool
    damaged: bool


class DeviceKey(BaseModel):
    """A broadcasting device's Instant Readout key (hex), null unless paired."""

    device: str
    key: str | None


class ProductInfo(BaseModel):
    """The product-info page; keys only for a paired client."""

    product: str
    model_id: str
    firmware: str
    serial: str
    paired: bool
    instant_readout: bool
    keys: list[DeviceKey]
