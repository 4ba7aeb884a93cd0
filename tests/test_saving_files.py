"""What a save does to the files around it (issue #22, item 6).

A killed save's temporary file is removed by the next save to that directory (only
glassnet's own, only once its writer is gone); a symbolic link is followed; a
read-only file is refused unless ``overwrite=True``; and what ``save`` writes,
``load_model`` reads: an optimizer state that overflowed loads (with a warning),
weights that are not finite are refused at save time, never at load time.
"""
import os
import signal
import stat
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import glassnet as gn
from glassnet.io import TEMP_SUFFIX, atomic_write, remove_stale_temporaries

fcntl = pytest.importorskip("fcntl")

#: a writer that writes half its bytes, says so, then waits to be killed (or for "go")
WRITER = """
import sys, time
from glassnet.io import atomic_write
def write(handle):
    handle.write(b"x" * 1000)
    handle.flush()
    print("writing", flush=True)
    sys.stdin.readline()          # killed here, or told to finish
    handle.write(b"y" * 1000)
atomic_write(sys.argv[1], write)
print("done", flush=True)
"""


def _writer(path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    return proc


def _temporaries(directory):
    return sorted(n for n in os.listdir(directory) if n.endswith(TEMP_SUFFIX))


def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    target = tmp_path / "m.bin"
    for _ in range(3):                      # three saves killed mid-write: each one's start
        proc = _writer(target)              # removed the one before, so one is left, not 3
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert len(_temporaries(tmp_path)) == 1 and not target.exists()
    foreign = tmp_path / ".m.bin.abcd.tmp"              # not ours: never touched
    foreign.write_bytes(b"keep")
    atomic_write(tmp_path / "other.bin", lambda h: h.write(b"new"))
    assert _temporaries(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == [".m.bin.abcd.tmp", "other.bin"]
    assert foreign.read_bytes() == b"keep"


def test_a_live_writers_temporary_is_left_alone_and_its_save_completes(tmp_path):
    target = tmp_path / "m.bin"
    proc = _writer(target)
    try:
        (live,) = _temporaries(tmp_path)
        atomic_write(tmp_path / "other.bin", lambda h: h.write(b"new"))
        assert remove_stale_temporaries(tmp_path) == []
        assert _temporaries(tmp_path) == [live]         # still there: its writer is alive
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == "done\n"
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert target.read_bytes() == b"x" * 1000 + b"y" * 1000
    assert _temporaries(tmp_path) == []


def test_model_save_after_a_killed_model_save_cleans_up(tmp_path):
    code = ("import glassnet as gn, numpy as np, sys, os, signal\n"
            "m = gn.Sequential([gn.Dense(64, input_dim=64), gn.Dense(2)]); m.build()\n"
            "import glassnet.io as gio\n"
            "real = gio.os.replace\n"
            "def die(*a): os.kill(os.getpid(), signal.SIGKILL)\n"
            "gio.os.replace = die\n"
            "m.save(sys.argv[1])\n")
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.glassnet")])
        assert result.returncode == -signal.SIGKILL
    assert len(_temporaries(tmp_path)) == 1
    model = gn.Sequential([gn.Dense(2, input_dim=3)])
    model.build()
    model.save(tmp_path / "m.glassnet")
    assert os.listdir(tmp_path) == ["m.glassnet"]
    assert np.array_equal(gn.load_model(tmp_path / "m.glassnet").variables, model.variables)


def test_save_follows_a_symlink_and_keeps_it(tmp_path):
    real = tmp_path / "models" / "real.glassnet"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "current.glassnet"
    link.symlink_to(real)
    model = gn.Sequential([gn.Dense(2, input_dim=3)])
    model.build()
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert np.array_equal(gn.load_model(real).variables, model.variables)
    dangling = tmp_path / "dangling.glassnet"          # a link to a file not yet there
    dangling.symlink_to(tmp_path / "models" / "new.glassnet")
    model.save(dangling)
    assert dangling.is_symlink() and (tmp_path / "models" / "new.glassnet").is_file()


def test_a_read_only_target_is_refused_unless_overwrite(tmp_path):
    path = tmp_path / "m.glassnet"
    path.write_bytes(b"precious")
    path.chmod(0o444)
    model = gn.Sequential([gn.Dense(2, input_dim=3)])
    model.build()
    with pytest.raises(PermissionError, match="read-only.*overwrite=True"):
        atomic_write(path, lambda h: h.write(b"new"))
    assert path.read_bytes() == b"precious" and _temporaries(tmp_path) == []
    with pytest.raises(PermissionError, match="read-only"):
        model.save(path)
    assert path.read_bytes() == b"precious"
    atomic_write(path, lambda h: h.write(b"new"), overwrite=True)
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o444
    with pytest.raises(FileExistsError, match="overwrite=False"):
        atomic_write(path, lambda h: h.write(b"newer"), overwrite=False)
    assert path.read_bytes() == b"new"
    atomic_write(tmp_path / "fresh", lambda h: h.write(b"1"), overwrite=False)
    assert (tmp_path / "fresh").read_bytes() == b"1"
    with pytest.raises(ValueError, match="overwrite must be"):
        atomic_write(tmp_path / "fresh", lambda h: h.write(b"1"), overwrite="yes")


def test_devices_and_directories_are_not_replaced(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        atomic_write(tmp_path, lambda h: h.write(b"x"))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        atomic_write(fifo, lambda h: h.write(b"x"))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@settings(max_examples=25, deadline=None)
@given(modes=st.lists(st.sampled_from([0o644, 0o600, 0o444, 0o400, None]), min_size=1,
                      max_size=4),
       overwrite=st.sampled_from([None, True, False]))
def test_atomic_write_either_writes_everything_or_changes_nothing(tmp_path_factory, modes,
                                                                   overwrite):
    directory = tmp_path_factory.mktemp("w")
    path = directory / "f"
    for i, mode in enumerate(modes):
        before = path.read_bytes() if path.exists() else None
        if mode is not None and path.exists():
            path.chmod(mode)
        new = f"version {i}".encode()
        try:
            atomic_write(path, lambda h: h.write(new), overwrite=overwrite)
        except (PermissionError, FileExistsError):
            assert before is not None and path.read_bytes() == before
            assert overwrite is False or stat.S_IMODE(path.stat().st_mode) & 0o222 == 0
        else:
            assert path.read_bytes() == new
            assert before is None or overwrite is True or \
                stat.S_IMODE(path.stat().st_mode) & 0o222
        assert _temporaries(directory) == []


def _trained_adam():
    rng = np.random.default_rng(0)
    model = gn.Sequential([gn.Dense(4, "relu", input_dim=3), gn.Dense(3, "softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(rng.normal(size=(16, 3)).astype(np.float32), rng.integers(0, 3, 16), epochs=1,
              verbose=0)
    return model


def test_an_overflowed_optimizer_state_saves_and_loads_with_a_warning(tmp_path):
    model = _trained_adam()
    model.optimizer.state["v"][:3] = np.inf             # Adam's v overflowed
    model.optimizer.state["m"][0] = np.nan
    model.save(tmp_path / "m.glassnet")
    with pytest.warns(UserWarning, match="optimizer state .* NaN or infinite") as caught:
        loaded = gn.load_model(tmp_path / "m.glassnet")
    # one warning per state array, with its count, pointing at the caller's code, not at
    # glassnet's (the caller is this file, or mutmut's trampoline under mutation testing)
    assert sorted(str(w.message).split(" holds ")[1].split(" NaN")[0] for w in caught) == [
        "1", "3"]
    package = os.path.dirname(gn.__file__) + os.sep
    assert not any(w.filename.startswith(package) for w in caught)
    assert np.array_equal(loaded.variables, model.variables)
    assert np.isinf(loaded.optimizer.state["v"][:3]).all()
    assert np.isnan(loaded.optimizer.state["m"][0])
    x = np.ones((2, 3), np.float32)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    model.optimizer.state["v"][:] = 1.0                   # a finite state: no warning
    model.optimizer.state["m"][:] = 0.0
    model.save(tmp_path / "m.glassnet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gn.load_model(tmp_path / "m.glassnet")


def test_non_finite_weights_are_refused_at_save_and_the_old_file_kept(tmp_path):
    model = _trained_adam()
    path = tmp_path / "m.glassnet"
    model.save(path)
    before = path.read_bytes()
    model.variables[5] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite values .*index 5"):
        model.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.glassnet"]
    assert np.isfinite(gn.load_model(path).variables).all()


def test_the_clean_up_touches_only_glassnets_regular_temporaries(tmp_path):
    (tmp_path / "elsewhere").write_bytes(b"keep")
    (tmp_path / ".a.link.glassnet-tmp").symlink_to(tmp_path / "elsewhere")
    os.mkfifo(tmp_path / ".a.fifo.glassnet-tmp")
    (tmp_path / ".a.dir.glassnet-tmp").mkdir()
    (tmp_path / "visible.glassnet-tmp").write_bytes(b"not hidden: not ours")
    (tmp_path / ".a.dead.glassnet-tmp").write_bytes(b"a dead writer's")
    assert remove_stale_temporaries(tmp_path) == [".a.dead.glassnet-tmp"]
    assert sorted(os.listdir(tmp_path)) == [".a.dir.glassnet-tmp", ".a.fifo.glassnet-tmp",
                                            ".a.link.glassnet-tmp", "elsewhere",
                                            "visible.glassnet-tmp"]
    assert (tmp_path / "elsewhere").read_bytes() == b"keep"


def test_model_save_and_save_weights_pass_overwrite_on(tmp_path):
    """Keras's save(overwrite=False) keeps an existing file; overwrite=True replaces a
    read-only one (the default refuses it)."""
    model = _trained_adam()
    path = tmp_path / "m.glassnet"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(path, overwrite=False)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save_weights(path, overwrite=False)
    assert path.read_bytes() == b"precious"
    path.chmod(0o444)
    model.save(path, overwrite=True)
    x = np.ones((2, 3), np.float32)
    assert np.array_equal(gn.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))
    weights = tmp_path / "w.glassnet"
    weights.write_bytes(b"precious")
    weights.chmod(0o444)
    model.save_weights(weights, overwrite=True)
    fresh = _trained_adam()
    fresh.load_weights(weights)
    assert np.array_equal(fresh.variables, model.variables)
