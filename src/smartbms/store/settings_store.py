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

Only a regular file is settings. Anything else at the path (a directory, a FIFO, a device, a
socket) is CORRUPTED on load, with a detail naming the path and what is there, and refused by
`save` with `SettingsPathError`; nothing is ever written over it. The reader checks the type
with `os.stat` before opening, opens with ``O_NONBLOCK`` (so a FIFO swapped in after the check
cannot block the open) and checks the opened descriptor again with `os.fstat` before reading.

Writes are atomic: the new file goes to a temporary file in the same directory (a unique
``.<name>.<random>.tmp`` per write, from `tempfile.mkstemp`), is flushed and fsynced, then
`os.replace`d onto the target, and the directory is fsynced so the rename itself survives a
power loss. A write interrupted at any byte leaves the old file in place (CFG-3); the reader never
looks at temporary files. Writers serialize on an exclusive `fcntl.flock` of a lock file beside
the settings, ``.<name>.lock`` (kept: removing a lock file is a race of its own), taken before
the temporary file is created. So concurrent writers, in one process or many, never see each
other's temporary files: the last complete write wins, never a mix, and a writer holding the lock
may delete every temporary file it finds, because those can only be left from killed writes.
A killed writer's lock dies with it. The reader takes no lock: the rename is its atomicity. The
existing file's permission bits are kept.

Symlinks: a settings path that is a symbolic link is written *through*: `save` resolves the
link (`os.path.realpath`) and replaces the file it points to, next to which the temporary and
lock files live, and the link stays a link. This is what a user who links the settings to another
disk means, and replacing the link with a file would silently cut that tie. A dangling link
creates its target; a link to something that is not a regular file is refused like the thing
itself. The link is resolved once per save, before the lock: re-pointing the link during a save
is not guarded against.

First boot: the real device leaves the factory with its configuration already written, so a
missing file on a device in service means lost configuration data, i.e. E-B31 (ERR-2).
`boot_controller` therefore never creates a file. Creating a new device (the twin's equivalent
of end-of-line programming) is a separate, explicit step, `SettingsStore.initialize()`, which
writes factory defaults only when no file exists at all and never overwrites a corrupted one.
"""

import collections.abc
import contextlib
import dataclasses
import enum
import hashlib
import json
import os
import pathlib
import re
import stat
import sys
import tempfile
from typing import Final

from smartbms.core.controller import Controller
from smartbms.core.settings import Settings, SettingsError

if sys.platform != "win32":
    import fcntl

MAGIC: Final = b"SMARTBMS-SETTINGS"
"""First word of the header line: this is a smartbms settings file."""
FORMAT_VERSION: Final = 1
"""The only format this reader accepts; a new layout gets a new number."""
MAX_FILE_BYTES: Final = 4096
"""Chosen: a valid file is about 300 bytes; anything beyond this is refused unread."""
_TEMP_SUFFIX: Final = ".tmp"
_LOCK_SUFFIX: Final = ".lock"
_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
"""Reading never blocks on a FIFO and never makes a terminal ours."""
_LOCK_FLAGS: Final = (
    os.O_RDONLY | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
)
"""flock needs no write access; a lock path that is a link or a FIFO must not redirect or block."""
_KINDS: Final = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)
"""What a non-regular file is, in the words of the error."""
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


class SettingsPathError(OSError):
    """The settings path holds something other than a regular file: nothing is written there."""


def _not_regular(path: pathlib.Path | str, mode: int) -> str | None:
    """Say what is at `path` when it is not a regular file; None when it is one."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    return f"{path} is {kind}, not a regular file"


class SettingsStore:
    """The settings file at `path`, which survives power loss (CFG-3).

    The directory must exist. Only `path` is ever read; temporary files are named
    ``.<name>.<random>.tmp`` and the writers' lock file ``.<name>.lock``, next to the file a
    symlink at `path` points to (module docstring).
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
        """Read the stored settings: OK, MISSING, or CORRUPTED with the reason (never raises).

        Returns at once whatever is at the path: a FIFO, a directory or a device is CORRUPTED
        with a detail naming the path, never a blocked read.
        """
        path = self._path
        try:
            problem = _not_regular(path, path.stat().st_mode)
            if problem is not None:
                return _corrupted(f"unreadable: {problem}")
            fd = os.open(path, _OPEN_FLAGS)
        except FileNotFoundError:
            return LoadResult(StoreStatus.MISSING, None, "no settings file")
        except OSError as error:  # no permission, a link loop, an I/O error: data not readable
            return _corrupted(f"unreadable: {path}: {error.strerror or error}")
        try:
            problem = _not_regular(path, os.fstat(fd).st_mode)  # swapped in since the stat
            if problem is not None:
                return _corrupted(f"unreadable: {problem}")
            data = _read_at_most(fd, MAX_FILE_BYTES + 1)
        except OSError as error:
            return _corrupted(f"unreadable: {path}: {error.strerror or error}")
        finally:
            os.close(fd)
        return decode_settings(data)

    def save(self, settings: Settings) -> None:
        """Replace the stored settings atomically: afterwards the file holds old or new, whole.

        Raises `SettingsPathError` when the path (or a symlink's target) is not a regular file,
        and otherwise `OSError`, naming the settings path, when the file system refuses the
        write; the old file is then intact.
        """
        data = encode_settings(settings)
        target = pathlib.Path(os.path.realpath(self._path))
        try:
            _refuse_non_regular(target, self._path)  # first: no lock file in /dev
            with _exclusive_lock(_beside(target, _LOCK_SUFFIX)):
                _refuse_non_regular(target, self._path)
                _replace_locked(target, data)
        except SettingsPathError:
            raise
        except OSError as error:
            raise _naming(error, self._path) from error

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


def _read_at_most(fd: int, limit: int) -> bytes:
    """Read up to `limit` bytes (short reads continue until end of file)."""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _beside(target: pathlib.Path, suffix: str) -> pathlib.Path:
    return target.with_name(f".{target.name}{suffix}")


def _refuse_non_regular(target: pathlib.Path, path: pathlib.Path) -> None:
    """Raise `SettingsPathError` unless `target` (`path` resolved) is a regular file or absent."""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    shown = f"{path} (resolves to {target})" if target != path.absolute() else path
    problem = _not_regular(shown, mode)
    if problem is not None:
        raise SettingsPathError(f"cannot save the settings: {problem}")


@contextlib.contextmanager
def _exclusive_lock(lock_path: pathlib.Path) -> collections.abc.Iterator[None]:
    """Hold the writers' lock: an flock of `lock_path`, released on exit or when the holder dies.

    flock belongs to the open file description, so threads of one process exclude each other
    too. Not available on Windows, where saves are not serialized.
    """
    fd = os.open(lock_path, _LOCK_FLAGS, 0o644)
    try:
        problem = _not_regular(lock_path, os.fstat(fd).st_mode)
        if problem is not None:
            raise SettingsPathError(f"cannot lock the settings: {problem}")
        if sys.platform != "win32":
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def _replace_locked(target: pathlib.Path, data: bytes) -> None:
    """Write `data` to a new temporary file and rename it onto `target`; the lock is held."""
    directory = target.parent
    prefix = f".{target.name}."
    _remove_stale_temp_files(directory, prefix)
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    fd, temp_name = tempfile.mkstemp(prefix=prefix, suffix=_TEMP_SUFFIX, dir=directory)
    temp_path = pathlib.Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            if mode is not None:
                os.fchmod(file.fileno(), mode)
            os.fsync(file.fileno())
        temp_path.replace(target)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def _remove_stale_temp_files(directory: pathlib.Path, prefix: str) -> None:
    """Delete temporary files killed saves left behind (with the lock held, no others exist)."""
    with os.scandir(directory) as entries:
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


def _naming(error: OSError, path: pathlib.Path) -> OSError:
    """The same error (same errno, same class) saying that saving `path` failed, and where."""
    if error.errno is None:
        return error
    where = f" ({error.filename})" if error.filename not in (None, str(path)) else ""
    return OSError(error.errno, f"cannot save the settings: {error.strerror}{where}", str(path))


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
