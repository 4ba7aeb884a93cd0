"""Writing files safely: nothing a user saved is lost to a failed write.

:func:`atomic_write` is used for every file glassnet writes (models, ONNX
files, reports, animations): the data goes to a temporary file in the target
directory, is flushed and fsynced, and only then renamed over the target with
``os.replace``.  An existing file stays intact until the new one is complete,
and a failed write leaves no temporary file behind.

What a save does to the file that is already there:

* a **symbolic link** is followed: the file it points to is replaced (as
  ``open(path, "w")`` would write it), and the link stays a link;
* a **read-only** file (no write permission bit set, or not writable by this
  user) is refused with ``PermissionError`` unless ``overwrite=True``;
  ``overwrite=False`` refuses any existing file (``FileExistsError``);
* the new file keeps the old file's mode, or gets the mode a newly created
  file would get (``0o666`` less the umask, usually ``0644``).

A save killed outright (``SIGKILL``, a power cut) cannot remove its own
temporary file.  Each writer therefore holds an advisory lock (``flock``) on
its temporary file while it writes, and every save removes, from the
directory it writes to, the temporary files of glassnet (named
``.NAME.XXXXXXXX.glassnet-tmp``) whose lock nobody holds any more: their
writer is gone.  A file that merely looks like one is never touched unless
it carries that suffix.  (Where ``fcntl`` is missing, on Windows, there is no
lock and no clean-up.)
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading

try:
    import fcntl
except ImportError:               # Windows: no advisory locks; no clean-up of dead writers
    fcntl = None

__all__ = ["atomic_write", "check_target", "TEMP_SUFFIX", "remove_stale_temporaries"]

#: the suffix of glassnet's temporary files (what the clean-up recognises as its own)
TEMP_SUFFIX = ".glassnet-tmp"

_UMASK_LOCK = threading.Lock()


def _new_file_mode(target):
    """The mode ``open(target, "w")`` would give: the old file's, or 0o666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        pass
    with _UMASK_LOCK:             # the only way to read the umask is to set it and put it back
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _read_only(target, mode):
    """True when a file must not be written: no write bit at all, or none for this user.

    (``os.access`` alone says yes to root for a 0444 file; the mode bits say what
    the owner meant.)
    """
    return not stat.S_IMODE(mode) & 0o222 or not os.access(target, os.W_OK)


def _try_lock(fd):
    """Take the exclusive lock of an open file without waiting; True when taken."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def remove_stale_temporaries(directory):
    """Remove glassnet's temporary files in ``directory`` whose writer is gone.

    A writer holds the lock of its temporary file until it has renamed or removed
    it; a file whose lock can be taken was left by a killed process.  Returns the
    names removed.  Errors (a file that vanished, no permission) are ignored:
    clean-up never makes a save fail.
    """
    if fcntl is None:
        return []
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX)):
            continue
        with contextlib.suppress(OSError):
            if not entry.is_file(follow_symlinks=False):
                continue
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_NONBLOCK", 0))     # (a FIFO swapped in: no wait)
            try:
                # a regular file, and the name still this very file while we hold its lock
                if stat.S_ISREG(os.fstat(fd).st_mode) and _try_lock(fd) \
                        and os.stat(entry.path, follow_symlinks=False).st_ino \
                        == os.fstat(fd).st_ino:
                    os.unlink(entry.path)
                    removed.append(entry.name)
            finally:
                os.close(fd)
    return removed


def _locked_temporary(directory, base):
    """A new temporary file next to the target, locked by us: ``(fd, path)``."""
    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=TEMP_SUFFIX, dir=directory)
        if fcntl is None:
            return fd, tmp
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)   # waits only while a cleaner looks at it
        except OSError:
            return fd, tmp                   # a file system without locks: no clean-up
        if os.fstat(fd).st_nlink:            # a cleaner that came first removed it: again
            return fd, tmp
        os.close(fd)


def check_target(path, overwrite=None):
    """What :func:`atomic_write` checks before writing: call it to fail before long work.

    Returns ``(target, shown)``: the file that would be written (a symbolic link
    resolved) and how errors name it.  Raises as :func:`atomic_write` does for a
    directory, a device or FIFO, a read-only file (unless ``overwrite=True``) or
    an existing file (with ``overwrite=False``).
    """
    if overwrite not in (None, True, False):
        raise ValueError(f"overwrite must be True, False or None; received {overwrite!r}")
    path = os.fspath(path)
    target = os.path.realpath(path)            # a link's file, not the link
    shown = path if target == os.path.abspath(path) else f"{path} (-> {target})"
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OSError(exc.errno, f"cannot save to {shown!r}: {exc.strerror or exc}") from exc
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {shown!r}: the directory {directory!r} does "
                                f"not exist")
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(f"cannot save to {shown!r}: it is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"cannot save to {shown!r}: it is not a regular file (a device, "
                          f"FIFO or socket)")
        if overwrite is False:
            raise FileExistsError(f"{shown!r} exists and overwrite=False; remove it or pass "
                                  f"overwrite=True")
        if overwrite is None and _read_only(target, info.st_mode):
            raise PermissionError(f"{shown!r} is read-only (mode "
                                  f"{stat.S_IMODE(info.st_mode):04o}); pass overwrite=True to "
                                  f"replace it anyway, or save elsewhere")
    return target, shown


def atomic_write(path, write, overwrite=None):
    """Call ``write(file)`` on a temporary file next to ``path``, then move it into place.

    Parameters
    ----------
    path : str or path-like
        The file to write.  A symbolic link is followed: the file it points to
        is replaced.
    write : callable
        Called with the temporary file, opened for writing bytes.
    overwrite : bool or None, default None
        What to do with an existing file.  None (the default) does what writing
        to it would do: replace a writable file, refuse a read-only one.  True
        replaces even a read-only file (it keeps its mode); False refuses any
        existing file.  (Keras's ``save(..., overwrite=...)`` argument.)

    Raises
    ------
    PermissionError
        ``path`` is read-only and ``overwrite`` is not True.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    IsADirectoryError
        ``path`` is a directory.
    OSError
        Naming ``path``, if anything else fails; ``path`` is then untouched and
        the temporary file removed.
    """
    target, shown = check_target(path, overwrite)
    directory = os.path.dirname(target)
    remove_stale_temporaries(directory)
    try:
        fd, tmp = _locked_temporary(directory, os.path.basename(target))
    except OSError as exc:
        raise OSError(exc.errno, f"cannot save to {shown!r}: {exc.strerror or exc}") from exc
    try:
        os.chmod(tmp, _new_file_mode(target))      # mkstemp made it 0600
        with os.fdopen(fd, "wb") as handle:
            fd = None                              # the handle owns it (and the lock) now
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(tmp, target)                # under the lock: no cleaner can take it
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if fd is not None:
            os.close(fd)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, f"saving {shown!r} failed ({exc.strerror or exc}); "
                                     f"any existing file there is unchanged") from exc
        raise
    with contextlib.suppress(OSError):           # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
