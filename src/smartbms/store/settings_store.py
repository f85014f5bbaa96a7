"""The settings file: atomic writes, a checksum, and a strict reader (CFG-3, CFG-4, ERR-2).

File format, version 1 (three ASCII lines, each ending in a newline, LF)::

    SMARTBMS-SETTINGS 1
    {"charge_limit_v":14.2,"fuse_type":"not set",...,"soft_switch_on":true}
    <64 lowercase hex digits: SHA-256 of the two lines above, newlines included>

Line 2 is `Settings.to_mapping()` as canonical JSON (sorted keys, ``,`` and ``:`` separators, no
spaces, ASCII only), so one `Settings` value has exactly one file. The reader uses that: after
checking the header and the checksum it parses the settings, validates them with
`Settings.from_mapping`, writes them again and requires the result to equal the file byte for
byte. Any change to the file (a flipped byte, a truncation, an appended byte, a value the
settings refuse, a missing or extra field, a non-canonical spelling) is therefore CORRUPTED,
never a different set of settings. Corruption is a state the device reports (E-B31), so `load`
returns it instead of raising.

Writes are atomic: the new file goes to a temporary file in the same directory, is flushed and
fsynced, then `os.replace`d onto the target, and the directory is fsynced so the rename itself
survives a power loss. A write interrupted at any byte leaves the old file in place (CFG-3); the
reader never looks at temporary files, and the next save deletes any left over by a killed write.
One store object (one process) owns a file: the stale-file cleanup assumes no concurrent writer.

First boot: the real device leaves the factory with its configuration already written, so a
missing file on a device in service means lost configuration data, i.e. E-B31 (ERR-2).
`boot_controller` therefore never creates a file. Creating a new device (the twin's equivalent
of end-of-line programming) is a separate, explicit step, `SettingsStore.initialize()`, which
writes factory defaults only when no file exists at all and never overwrites a corrupted one.
"""

import dataclasses
import enum
import hashlib
import json
import os
import pathlib
import re
import tempfile
from typing import Final

from smartbms.core.controller import Controller
from smartbms.core.settings import Settings, SettingsError

MAGIC: Final = b"SMARTBMS-SETTINGS"
"""First word of the header line: this is a smartbms settings file."""
FORMAT_VERSION: Final = 1
"""The only format this reader accepts; a new layout gets a new number."""
MAX_FILE_BYTES: Final = 4096
"""Chosen: a valid file is about 300 bytes; anything beyond this is refused unread."""
_TEMP_SUFFIX: Final = ".tmp"
_HEX_DIGEST = re.compile(rb"[0-9a-f]{64}")


class StoreStatus(enum.Enum):
    """What `SettingsStore.load` found."""

    OK = "ok"
    MISSING = "missing"
    CORRUPTED = "corrupted"


@dataclasses.dataclass(frozen=True, slots=True)
class LoadResult:
    """The outcome of a load: `settings` is set exactly when `status` is OK."""

    status: StoreStatus
    settings: Settings | None
    detail: str
    """Why, for people: "checksum mismatch", "truncated", "unknown format version 2", ..."""

    def __post_init__(self) -> None:
        if (self.status is StoreStatus.OK) != (self.settings is not None):
            msg = "a LoadResult carries settings exactly when its status is OK"
            raise ValueError(msg)

    @property
    def ok(self) -> bool:
        """The file held valid settings."""
        return self.status is StoreStatus.OK


def encode_settings(settings: Settings) -> bytes:
    """Return the one file that holds `settings` (format in the module docstring)."""
    header = MAGIC + b" " + str(FORMAT_VERSION).encode("ascii")
    body = json.dumps(
        settings.to_mapping(),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    ).encode("ascii")
    sealed = header + b"\n" + body + b"\n"
    return sealed + hashlib.sha256(sealed).hexdigest().encode("ascii") + b"\n"


def _corrupted(detail: str) -> LoadResult:
    return LoadResult(StoreStatus.CORRUPTED, None, detail)


def decode_settings(data: bytes) -> LoadResult:
    """Read a file's bytes: OK with the settings only if `data` is exactly a file we would write.

    Never raises for bad content: every defect is a CORRUPTED result with a reason.
    """
    if len(data) > MAX_FILE_BYTES:
        return _corrupted(f"too large ({len(data)} bytes)")
    parts = data.split(b"\n", 3)
    if len(parts) < 4:
        return _corrupted("truncated (fewer than three complete lines)")
    header, body, digest, rest = parts
    if rest:
        return _corrupted("trailing data after the checksum line")
    magic, _, version = header.partition(b" ")
    if magic != MAGIC:
        return _corrupted("not a settings file (bad magic)")
    if version != str(FORMAT_VERSION).encode("ascii"):
        return _corrupted(f"unknown format version {version.decode('ascii', 'replace')!r}")
    if not _HEX_DIGEST.fullmatch(digest):
        return _corrupted("malformed checksum line")
    if hashlib.sha256(header + b"\n" + body + b"\n").hexdigest().encode("ascii") != digest:
        return _corrupted("checksum mismatch")
    try:
        values = json.loads(body.decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _corrupted("settings line is not ASCII JSON")
    if not isinstance(values, dict):
        return _corrupted("settings line is not a JSON object")
    try:
        settings = Settings.from_mapping(values)
    except SettingsError as error:
        return _corrupted(f"invalid setting: {error}")
    except OverflowError:  # Settings lets a huge JSON integer through to math.isfinite
        return _corrupted("invalid setting: number out of range")
    if encode_settings(settings) != data:
        return _corrupted("settings line is not in canonical form")
    return LoadResult(StoreStatus.OK, settings, "ok")


class SettingsStore:
    """The settings file at `path`, which survives power loss (CFG-3).

    The directory must exist. Only `path` is ever read; temporary files are named
    ``.<name>.<random>.tmp`` next to it.
    """

    __slots__ = ("_path",)

    def __init__(self, path: pathlib.Path) -> None:
        self._path = path

    def __repr__(self) -> str:
        return f"SettingsStore({self._path!r})"

    @property
    def path(self) -> pathlib.Path:
        """The settings file."""
        return self._path

    def load(self) -> LoadResult:
        """Read the stored settings: OK, MISSING, or CORRUPTED with the reason (never raises)."""
        try:
            with self._path.open("rb") as file:
                data = file.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return LoadResult(StoreStatus.MISSING, None, "no settings file")
        except OSError as error:  # a directory, no permission, an I/O error: data not readable
            return _corrupted(f"unreadable: {error.strerror or error}")
        return decode_settings(data)

    def save(self, settings: Settings) -> None:
        """Replace the stored settings atomically: afterwards the file holds old or new, whole.

        Raises `OSError` when the file system refuses the write; the old file is then intact.
        """
        directory = self._path.parent
        self._remove_stale_temp_files()
        fd, temp_name = tempfile.mkstemp(
            prefix=self._temp_prefix(), suffix=_TEMP_SUFFIX, dir=directory
        )
        temp_path = pathlib.Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(encode_settings(settings))
                file.flush()
                os.fsync(file.fileno())
            temp_path.replace(self._path)
        except BaseException:
            temp_path.unlink(missing_ok=True)
            raise
        _fsync_directory(directory)

    def factory_reset(self) -> Settings:
        """Store the factory defaults and return them (CFG-4: PIN 000000, fuse type not set)."""
        settings = Settings.factory()
        self.save(settings)
        return settings

    def initialize(self) -> bool:
        """Create a new device's file with factory defaults; True if it did.

        Does nothing when any file is there, valid or not: a corrupted file must stay
        corrupted so that the boot raises E-B31 instead of silently forgetting the user's setup.
        """
        if self.load().status is not StoreStatus.MISSING:
            return False
        self.save(Settings.factory())
        return True

    def _temp_prefix(self) -> str:
        return f".{self._path.name}."

    def _remove_stale_temp_files(self) -> None:
        """Delete temporary files an earlier, killed save left behind."""
        prefix = self._temp_prefix()
        with os.scandir(self._path.parent) as entries:
            stale = [
                pathlib.Path(entry.path)
                for entry in entries
                if entry.name.startswith(prefix)
                and entry.name.endswith(_TEMP_SUFFIX)
                and len(entry.name) > len(prefix) + len(_TEMP_SUFFIX)
                and entry.is_file(follow_symlinks=False)
            ]
        for path in stale:
            path.unlink(missing_ok=True)


def _fsync_directory(directory: pathlib.Path) -> None:
    """Make the rename durable; POSIX only (other systems cannot open a directory)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def boot_controller(store: SettingsStore) -> tuple[Controller, LoadResult]:
    """Power-up: valid stored settings run the controller; missing or corrupted ones raise E-B31.

    A missing file is E-B31 as well (ERR-2, CFG-3): a device in service always has one, and a new
    device gets its file from `SettingsStore.initialize()`, never from booting.
    """
    result = store.load()
    if result.settings is not None:
        return Controller(result.settings), result
    return Controller(config_valid=False), result
