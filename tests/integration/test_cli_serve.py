"""`smartbms serve` from the command line: errors, the printed address, and a clean Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi")

from smartbms.cli import main
from tests.app.served import free_port


def test_serve_help_lists_its_options() -> None:
    assert main(["serve", "--help"]) == 0


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--speed", "0"],
        ["serve", "--speed", "nan"],
        ["serve", "--port", "70000"],
        ["serve", "no-such-file.toml"],
    ],
)
def test_serve_refuses_bad_input_with_status_2(args: list[str]) -> None:
    assert main(args) == 2


def test_a_broken_scenario_is_one_sentence_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[scenario]\nname = "x"\n', encoding="utf-8")
    assert main(["serve", str(broken), "--state", str(tmp_path / "state")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:")
    assert "Traceback" not in err


@pytest.mark.slow
def test_serve_prints_its_address_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smartbms.cli",
            "serve",
            "--port",
            str(port),
            "--state",
            str(tmp_path / "state"),
            "--speed",
            "10",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.get("/api/status").status_code == 200
            assert "Smart BMS 12-200" in client.get("/").text
            with client.stream("GET", "/api/stream") as response:
                lines = response.iter_lines()
                assert next(lines).startswith("event: status")
                started = time.monotonic()
                process.send_signal(signal.SIGINT)
                for _ in lines:  # the stream ends when the server stops
                    pass
        code = process.wait(timeout=10)
        assert time.monotonic() - started < 8.0
        assert code == 130
        assert (tmp_path / "state" / "settings.smartbms").is_file()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()  # closes the pipes
