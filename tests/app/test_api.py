"""The JSON API, every endpoint and every refusal, in process (httpx.ASGITransport)."""

import math
from pathlib import Path

import httpx
import pytest

from smartbms.app import security
from smartbms.app.context import Context
from smartbms.app.server import build_context, create_app
from smartbms.core.settings import SETTING_SPECS
from tests.app.conftest import FIGURE_1, pair

pytestmark = pytest.mark.anyio

LED_ORDER = [
    ("Alternator charging", "green"),
    ("Over-temperature", "red"),
    ("Smart BMS active", "green"),
    ("Bluetooth", "blue"),
    ("Charge disconnect", "yellow"),
    ("Load disconnect", "orange"),
    ("System+ charging", "green"),
]


@pytest.mark.req("APP-1")
async def test_status_needs_no_pairing_and_has_every_value(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/status")
    assert response.status_code == 200
    body = response.json()
    for key in (
        "battery_voltage_v",
        "soft_switch_on",
        "system_plus_on",
        "alternator_voltage_v",
        "system_plus_voltage_v",
        "alternator_current_pct",
        "leds",
        "messages",
        "sim_time_s",
    ):
        assert key in body
    assert 12.0 < body["battery_voltage_v"] < 14.0
    assert body["soft_switch_on"] is True
    assert body["system_plus_on"] is True
    assert [(led["name"], led["colour"]) for led in body["leds"]] == LED_ORDER
    assert {led["state"] for led in body["leds"]} <= {"off", "on", "blink"}
    assert body["messages"] == []
    assert body["sim_time_s"] == 0.0
    assert body["alternator_current_pct"] == 0.0  # the fuse type is set in Figure 1


@pytest.mark.req("APP-2")
async def test_alternator_percentage_is_null_while_the_fuse_type_is_not_set(
    client: httpx.AsyncClient,
) -> None:
    headers = await pair(client)
    response = await client.post("/api/factory-reset", headers=headers)
    assert response.status_code == 200
    body = (await client.get("/api/status")).json()
    assert body["alternator_current_pct"] is None
    assert body["fuse_type_prompt"] is True


@pytest.mark.req("CFG-5")
async def test_pairing_sets_a_strict_http_only_cookie_and_returns_a_csrf_token(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/pair", json={"pin": "000000"})
    assert response.status_code == 200
    assert len(response.json()["csrf_token"]) >= 32
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(security.SESSION_COOKIE + "=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    session = (await client.get("/api/session")).json()
    assert session == {"paired": True, "csrf_token": response.json()["csrf_token"]}


@pytest.mark.req("CFG-5")
async def test_wrong_pin_is_401_and_a_pin_is_a_string(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/pair", json={"pin": "123456"})
    assert response.status_code == 401
    assert response.json()["detail"] == "wrong PIN"
    assert security.SESSION_COOKIE not in response.headers.get("set-cookie", "")
    as_number = await client.post("/api/pair", json={"pin": 0})
    assert as_number.status_code == 422
    assert (await client.get("/api/session")).json() == {"paired": False, "csrf_token": None}


async def test_repeated_wrong_pins_lock_pairing_out_for_a_growing_time(ctx: Context) -> None:
    now = [1000.0]
    sessions = security.Sessions(wall_time=lambda: now[0])
    ctx.sessions = sessions
    app = create_app(ctx, run_twin=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for _ in range(security.FREE_ATTEMPTS - 1):
            assert (await client.post("/api/pair", json={"pin": "111111"})).status_code == 401
        assert (await client.post("/api/pair", json={"pin": "111111"})).status_code == 401
        locked = await client.post("/api/pair", json={"pin": "000000"})  # even the right PIN
        assert locked.status_code == 429
        first = int(locked.headers["Retry-After"])
        assert first == math.ceil(security.LOCKOUT_BASE_S)
        now[0] += first
        assert (await client.post("/api/pair", json={"pin": "111111"})).status_code == 401
        again = await client.post("/api/pair", json={"pin": "000000"})
        assert again.status_code == 429
        assert int(again.headers["Retry-After"]) == 2 * first  # growing
        now[0] += 2 * first
        assert (await client.post("/api/pair", json={"pin": "000000"})).status_code == 200
        assert (await client.post("/api/pair", json={"pin": "111111"})).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/settings", {"charge_limit_v": 14.4}),
        ("PUT", "/api/pin", {"old_pin": "000000", "new_pin": "123456"}),
        ("POST", "/api/factory-reset", None),
        ("POST", "/api/commands", {"type": "soft-switch", "on": False}),
        ("PUT", "/api/clock", {"speed": 10.0}),
        ("DELETE", "/api/pair", None),
    ],
)
async def test_every_change_needs_a_session_and_the_csrf_token(
    client: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    before = (await client.get("/api/settings")).json()
    unpaired = await client.request(method, path, json=body)
    assert unpaired.status_code == 401
    headers = await pair(client)
    no_token = await client.request(method, path, json=body)
    assert no_token.status_code == 403
    wrong_token = await client.request(method, path, json=body, headers={"X-CSRF-Token": "x"})
    assert wrong_token.status_code == 403
    assert (await client.get("/api/settings")).json() == before
    assert (await client.get("/api/status")).json()["soft_switch_on"] is True
    ok = await client.request(method, path, json=body, headers=headers)
    assert ok.status_code == 200, ok.text


@pytest.mark.req("APP-3")
async def test_settings_read_and_change_any_subset(client: httpx.AsyncClient) -> None:
    settings = (await client.get("/api/settings")).json()
    assert settings == {
        "fuse_type": "125A",
        "charge_limit_v": 14.2,
        "prealarm_usage": "use pre-alarm",
        "prealarm_mode": "intermittent",
        "remote_function": "alternator and system+ only",
    }
    headers = await pair(client)
    changed = await client.put(
        "/api/settings",
        json={"fuse_type": "100A", "charge_limit_v": 14.4, "prealarm_mode": "continuous"},
        headers=headers,
    )
    assert changed.status_code == 200
    assert changed.json() == {
        **settings,
        "fuse_type": "100A",
        "charge_limit_v": 14.4,
        "prealarm_mode": "continuous",
    }
    assert (await client.get("/api/settings")).json() == changed.json()


@pytest.mark.req("CFG-2")
@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"charge_limit_v": 15.4}, "charge_limit_v"),
        ({"charge_limit_v": 12.9, "fuse_type": "100A"}, "charge_limit_v"),
        ({"charge_limit_v": "14.2 volts"}, "charge_limit_v"),
        ({"fuse_type": "250A"}, "fuse_type"),
        ({"prealarm_usage": "maybe"}, "prealarm_usage"),
        ({"prealarm_mode": "blinking"}, "prealarm_mode"),
        ({"remote_function": "off"}, "remote_function"),
    ],
)
async def test_out_of_range_settings_are_422_naming_the_setting_and_range_nothing_changed(
    client: httpx.AsyncClient, change: dict[str, object], setting: str
) -> None:
    before = (await client.get("/api/settings")).json()
    headers = await pair(client)
    response = await client.put("/api/settings", json=change, headers=headers)
    assert response.status_code == 422
    body = response.json()
    allowed = SETTING_SPECS[setting].allowed
    assert body["setting"] == setting
    assert body["allowed"] == allowed
    assert setting in body["detail"]
    assert allowed in body["detail"]
    assert (await client.get("/api/settings")).json() == before


@pytest.mark.parametrize("body", [{}, {"charge_limit_v": None}, {"pin": "123456"}])
async def test_settings_change_must_name_known_settings(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    headers = await pair(client)
    response = await client.put("/api/settings", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.req("CFG-5", "APP-4")
async def test_pin_change_ends_sessions_rotates_the_bms_key_and_needs_the_new_pin(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    headers = await pair(client)
    keys_before = {
        k["device"]: k["key"] for k in (await client.get("/api/product-info")).json()["keys"]
    }
    response = await client.put(
        "/api/pin", json={"old_pin": "000000", "new_pin": "012345"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json() == {"paired": False}
    assert (await client.get("/api/session")).json()["paired"] is False
    stale = await client.put("/api/settings", json={"charge_limit_v": 14.0}, headers=headers)
    assert stale.status_code == 401
    assert (await client.post("/api/pair", json={"pin": "000000"})).status_code == 401
    headers = await pair(client, "012345")  # leading zero kept
    assert ctx.live.twin.state.settings.pin == "012345"
    keys_after = {
        k["device"]: k["key"] for k in (await client.get("/api/product-info")).json()["keys"]
    }
    if keys_before:
        assert keys_after["bms"] != keys_before["bms"]
        assert int(keys_after["bms"][:2], 16) == (int(keys_before["bms"][:2], 16) + 1) % 256
        batteries = {k: v for k, v in keys_before.items() if k != "bms"}
        assert batteries == {k: v for k, v in keys_after.items() if k != "bms"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"old_pin": "999999", "new_pin": "123456"}, 401),
        ({"old_pin": "000000", "new_pin": "12345"}, 422),
        ({"old_pin": "000000", "new_pin": "12345a"}, 422),
        ({"old_pin": "000000", "new_pin": 123456}, 422),
        ({"old_pin": "000000"}, 422),
    ],
)
async def test_pin_change_refusals_change_nothing(
    client: httpx.AsyncClient, ctx: Context, body: dict[str, object], status: int
) -> None:
    headers = await pair(client)
    response = await client.put("/api/pin", json=body, headers=headers)
    assert response.status_code == status
    if status == 422:
        assert response.json()["allowed"] == "6 digits"
    assert ctx.live.twin.state.settings.pin == "000000"
    assert (await client.get("/api/session")).json()["paired"] is True


@pytest.mark.req("CFG-4")
async def test_factory_reset_restores_every_setting_and_the_pin(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    headers = await pair(client)
    await client.put("/api/settings", json={"charge_limit_v": 13.5}, headers=headers)
    await client.put("/api/pin", json={"old_pin": "000000", "new_pin": "424242"}, headers=headers)
    headers = await pair(client, "424242")
    response = await client.post("/api/factory-reset", headers=headers)
    assert response.status_code == 200
    assert (await client.get("/api/settings")).json() == {
        "fuse_type": "not set",
        "charge_limit_v": 14.2,
        "prealarm_usage": "use pre-alarm",
        "prealarm_mode": "continuous",
        "remote_function": "alternator and system+ only",
    }
    assert ctx.live.twin.state.settings.pin == "000000"
    assert (await client.get("/api/session")).json()["paired"] is False
    await pair(client, "000000")


@pytest.mark.req("REM-3")
async def test_soft_switch_off_turns_system_plus_off_and_changes_the_leds(
    client: httpx.AsyncClient,
) -> None:
    headers = await pair(client)
    before = (await client.get("/api/status")).json()
    response = await client.post(
        "/api/commands", json={"type": "soft-switch", "on": False}, headers=headers
    )
    assert response.status_code == 200
    assert "SystemSwitchedOff" in [e["event"] for e in response.json()["events"]]
    after = (await client.get("/api/status")).json()
    assert after["soft_switch_on"] is False
    assert after["system_plus_on"] is False
    assert after["leds"] != before["leds"]
    assert after["leds"][6]["state"] == "off"  # System+ charging


async def test_commands_take_the_scenario_action_names(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    headers = await pair(client)
    for body in (
        {"type": "engine-start"},
        {"type": "shore-power", "on": True},
        {"type": "ambient", "ambient_c": 30.0},
        {"type": "set", "device": "Fridge", "power_w": 60.0},
        {"type": "heat", "bms_extra_c": 10.0},
        {"type": "clear-fault", "fault": "heat"},
        {"type": "note", "text": "hello"},
    ):
        response = await client.post("/api/commands", json=body, headers=headers)
        assert response.status_code == 200, (body, response.text)
    state = ctx.live.twin.state
    assert state.alternator is not None
    assert state.alternator.running
    assert state.shore_power
    assert state.faults == ()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"type": "warp-drive"}, "unknown command"),
        ({"type": "setting", "values": []}, "PUT /api/settings"),
        ({"type": "pin", "new_pin": "111111"}, "PUT /api/pin"),
        ({"type": "factory-reset"}, "POST /api/factory-reset"),
        ({"type": "soft-switch"}, "give on"),
        ({"type": "soft-switch", "on": "yes"}, "true or false"),
        ({"type": "soft-switch", "on": False, "volume": 11}, "unknown field volume"),
        ({"type": "ambient", "ambient_c": 99.0}, "between"),
        ({"type": "set", "device": "Jacuzzi", "on": False}, "no device named"),
        ({"type": "weak-cell", "battery": 9, "cell": 1, "capacity_factor": 0.5}, "battery"),
        ({"type": "clear-fault", "fault": "config-corrupted"}, "cannot clear"),
    ],
)
async def test_bad_commands_are_422_and_change_nothing(
    client: httpx.AsyncClient, ctx: Context, body: dict[str, object], words: str
) -> None:
    headers = await pair(client)
    before = ctx.live.twin.state
    response = await client.post("/api/commands", json=body, headers=headers)
    assert response.status_code == 422
    assert words in response.json()["detail"]
    assert ctx.live.twin.state == before


async def test_clock_speed_and_pause(client: httpx.AsyncClient, ctx: Context) -> None:
    assert (await client.get("/api/clock")).json()["speed"] == 1.0
    headers = await pair(client)
    response = await client.put(
        "/api/clock", json={"speed": 100.0, "paused": True}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["speed"] == 100.0
    assert response.json()["paused"] is True
    assert ctx.live.clock.paused
    resumed = await client.put("/api/clock", json={"paused": False}, headers=headers)
    assert resumed.json()["paused"] is False
    for bad in ({"speed": 0}, {"speed": -1}, {"speed": 1e9}, {"paused": "no"}, {"pace": 2}):
        assert (await client.put("/api/clock", json=bad, headers=headers)).status_code == 422
    assert ctx.live.clock.speed == 100.0


async def test_batteries_show_cells_temperature_soc_and_balancer(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/batteries")
    assert response.status_code == 200
    batteries = response.json()
    assert [b["number"] for b in batteries] == [1, 2]
    for battery in batteries:
        assert len(battery["cell_voltages_v"]) == 4
        assert battery["soc_pct"] == 45.0
        assert battery["balancer"] in {"unknown", "balanced", "balancing", "imbalance"}
        assert -40 < battery["temperature_c"] < 60
        assert abs(sum(battery["cell_voltages_v"]) - battery["voltage_v"]) < 0.01


@pytest.mark.req("APP-4")
async def test_product_info_shows_keys_only_when_paired(client: httpx.AsyncClient) -> None:
    unpaired = (await client.get("/api/product-info")).json()
    assert unpaired["product"] == "Smart BMS 12-200"
    assert unpaired["paired"] is False
    assert all(k["key"] is None for k in unpaired["keys"])
    await pair(client)
    paired = (await client.get("/api/product-info")).json()
    assert paired["paired"] is True
    assert [k["device"] for k in paired["keys"]] == ["bms", "battery1", "battery2"]
    assert all(len(bytes.fromhex(k["key"])) == 16 for k in paired["keys"])


async def test_unpair_ends_the_session(client: httpx.AsyncClient) -> None:
    headers = await pair(client)
    assert (await client.delete("/api/pair", headers=headers)).status_code == 200
    assert (await client.get("/api/session")).json()["paired"] is False


async def test_history_and_event_log(client: httpx.AsyncClient, ctx: Context) -> None:
    headers = await pair(client)
    await client.post("/api/commands", json={"type": "engine-start"}, headers=headers)
    for minute in range(1, 11):  # the live loop publishes at least every tick
        ctx.live.twin.advance_to(60.0 * minute)
    history = (await client.get("/api/history")).json()
    assert history["t_s"][0] == 0.0
    assert len(history["t_s"]) >= 10
    assert set(history) >= {"battery_voltage_v", "bank_soc_pct", "alternator_current_a"}
    events = (await client.get("/api/events")).json()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert any(e["event"] == "TimelineApplied" for e in events)
    assert events[0]["clock"].startswith("day 1 16:00:")  # Figure 1 starts at 16:00, undated
    later = (await client.get("/api/events", params={"after": events[-2]["seq"]})).json()
    assert later == events[-1:]


async def test_clock_reads_as_the_report_does(client: httpx.AsyncClient, ctx: Context) -> None:
    """One clock text everywhere: the app's status, clock and events use `wall_clock_text`."""
    ctx.live.twin.advance_to(8 * 3600.0 + 5.0)  # Figure 1 starts at 16:00: past midnight
    status = (await client.get("/api/status")).json()
    assert status["clock"] == "day 2 00:00:05"
    assert (await client.get("/api/clock")).json()["clock"] == "day 2 00:00:05"


async def test_a_dated_scenario_gives_the_weekday(tmp_path: Path) -> None:
    """With `[scenario] start_date` the app says 'Fri 16:00:00', as the report and the CLI do."""
    text = FIGURE_1.read_text(encoding="utf-8")
    dated = tmp_path / "dated.toml"
    dated.write_text(text.replace("[scenario]\n", '[scenario]\nstart_date = "2026-12-04"\n', 1))
    ctx = build_context(dated, state_dir=tmp_path / "state")
    transport = httpx.ASGITransport(app=create_app(ctx, run_twin=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        headers = await pair(client)
        await client.post("/api/commands", json={"type": "engine-start"}, headers=headers)
        ctx.live.twin.advance_to(60.0)
        events = (await client.get("/api/events")).json()
        assert events
        assert events[0]["clock"] == "Fri 16:00:00"
        ctx.live.twin.advance_to(8 * 3600.0 + 5.0)
        assert (await client.get("/api/status")).json()["clock"] == "Sat 00:00:05"
        assert (await client.get("/api/clock")).json()["clock"] == "Sat 00:00:05"


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/pair", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_openapi_documents_the_api(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/status",
        "/api/stream",
        "/api/pair",
        "/api/settings",
        "/api/pin",
        "/api/factory-reset",
        "/api/commands",
        "/api/clock",
        "/api/batteries",
        "/api/product-info",
    ):
        assert path in paths
    assert "429" in paths["/api/pair"]["post"]["responses"]
    assert "/" not in paths  # pages are not API
