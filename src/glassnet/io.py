"""Writing files safely: nothing a user saved is lost to a failed write.

:func:`atomic_write` is used for every file glassnet writes (models, ONNX
files, reports, animations): the data goes to a temporary file in the target
directory, is flushed and fsynced, and only then renamed over the target with
``os.replace``.  An existing file stays intact until the new one is complete,
and a failed write leaves no temporary file behind.  The file gets the mode a
newly created file would get (``0o666`` less the umask, usually ``0644``), or
keeps the mode of the file it replaces.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading

__all__ = ["atomic_write"]

_UMASK_LOCK = threading.Lock()


def _new_file_mode(path):
    """The mode ``open(path, "w")`` would give: the old file's, or 0o666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    with _UMASK_LOCK:             # the only way to read the umask is to set it and put it back
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then move it into place.

    Raises ``OSError`` naming ``path`` if anything fails; ``path`` is then
    untouched and the temporary file removed.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                   dir=directory)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot save to {path!r}: {exc.strerror or exc}") from exc
    try:
        os.chmod(tmp, _new_file_mode(path))        # mkstemp made it 0600
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, f"saving {path!r} failed ({exc.strerror or exc}); "
                                     f"any existing file there is unchanged") from exc
        raise
    with contextlib.suppress(OSError):           # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
