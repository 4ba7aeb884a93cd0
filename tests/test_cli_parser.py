"""The command line as users type it: options, defaults, help, exit statuses.

Fast and in-process (no training): each test parses or runs ``glassnet`` through
``cli.main`` the way a shell would, and checks what the user reads or relies on: the
defaults ``--help`` promises, the options the README shows, the values refused with
status 2, which command runs, ``--debug`` before or after the command, the exit status of
each kind of error, ``| head`` closing the pipe.  (Training itself is tested in
test_smoke_values.py and test_cli.py.)
"""

import os
import re
import shlex
import sys
import warnings
from pathlib import Path

import pytest

import glassnet
from glassnet import activations, cli, optimizers
from glassnet.datasets import catalog

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["train", "evaluate", "predict", "summary", "export", "explain", "report", "lab",
            "demo"]
#: the positional arguments each command needs before its options parse
POSITIONALS = {"train": [], "evaluate": ["m"], "predict": ["m", "in.csv"], "summary": ["m"],
               "export": ["m", "out.onnx"], "explain": ["m"], "report": ["m"], "lab": [],
               "demo": ["xor"]}


@pytest.fixture(autouse=True)
def wide_help(monkeypatch):
    """argparse wraps help at the terminal's width: one option a line keeps it parseable."""
    monkeypatch.setenv("COLUMNS", "1000")


def parse(*argv):
    return cli.make_parser().parse_args(list(argv))


def run(capsys, *argv):
    """``glassnet ARGV`` in this process: (exit status, stdout, stderr)."""
    try:
        status = cli.main(list(argv))
    except SystemExit as exc:           # argparse's own exits (--help, bad arguments)
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def help_options(capsys, command):
    """{'--option' or 'positional': its help text} as ``glassnet COMMAND --help`` prints them."""
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    options, current = {}, None
    sections = out.split("\n\n")
    listed = "\n".join(s for s in sections if s.startswith(("options:", "positional arguments:")))
    for line in listed.splitlines():
        m = re.match(r"  (-[\w-]+|\w+)(?: \S+)?(?:, (--[\w-]+)(?: \S+)?)?(?:\s{2,}(.*))?$",
                     line)
        if m:
            current = m.group(2) or m.group(1)
            options[current] = m.group(3) or ""
        elif line.startswith(" " * 4) and current:       # help put on the next line
            options[current] += line.strip()
    return options


# -- help: every command is listed, and every default it states is the one used ----------

def test_help_lists_every_command_with_its_purpose(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0 and out.startswith("usage: glassnet [-h] [--debug] COMMAND ...")
    listed = re.findall(r"^    (\w+)  ", out.split("COMMAND\n", 1)[1], re.M)
    assert listed == COMMANDS
    assert "Run 'glassnet COMMAND --help' for a command's options." in out
    assert "\ncommands:\n  COMMAND\n" in out
    assert "NumPy alone" in out
    for command in COMMANDS:
        # each command's line in the overview, and the same purpose atop its own help
        purpose = re.search(rf"^\s+{command}\s+(\S.*)$", out, re.M).group(1)
        status, own, _ = run(capsys, command, "--help")
        assert status == 0 and own.startswith(f"usage: glassnet {command} [-h] [--debug]")
        assert purpose in own.replace("\n", " "), (command, purpose)


def _stated_default(help_line):
    m = re.search(r"\(default: ([^,)]+)", help_line)
    return m and m.group(1)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_default_the_help_states_is_the_one_used(capsys, command):
    """``(default: X)`` in --help is what the command gets when the option is left out.

    A default the parser leaves as None is decided by the command (the data set's own
    scaling, the held-out fraction, a free port...): those are checked where they are used.
    """
    options = help_options(capsys, command)
    args = vars(parse(command, *POSITIONALS[command]))
    stated = 0
    for option, line in options.items():
        dest = option.lstrip("-").replace("-", "_")
        if option in ("--help", "--debug") or not option.startswith("--"):
            continue
        assert dest in args, (command, option)
        said = _stated_default(line)
        if said is None or args[dest] is None:
            continue
        stated += 1
        value = args[dest]
        assert str(value) == said.split()[0], (command, option, value, line)
    if command in ("train", "evaluate", "explain", "report"):
        assert stated >= (8 if command == "train" else 2)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_is_explained_in_help(capsys, command):
    options = help_options(capsys, command)
    assert "--debug" in options and "--help" in options
    positionals = [a for a in POSITIONALS[command] if a != "xor"] + (["name"] if command ==
                                                                      "demo" else [])
    assert len([o for o in options if not o.startswith("-")]) >= len(positionals)
    for option, text in options.items():
        assert len(text.split()) >= 2, (command, option, text)


def test_the_overviews_options_are_explained_too(capsys):
    status, out, _ = run(capsys, "--help")
    assert re.search(r"^  --debug +show tracebacks on errors$", out, re.M), out


@pytest.mark.parametrize("command", ["evaluate", "explain", "report"])
def test_the_test_split_is_drawn_with_the_models_seed_unless_told(capsys, command):
    """Only the model's own seed finds the rows ``train`` held out: the help must say so."""
    assert parse(command, "m").seed is None
    assert "(default: the model's, as 'glassnet train --seed' set it)" in \
        help_options(capsys, command)["--seed"]
    assert "(default: 0)" in help_options(capsys, "train")["--seed"]


def test_train_help_states_the_epoch_cap_and_the_hidden_activations(capsys):
    options = help_options(capsys, "train")
    assert f"at most {cli.MAX_EPOCHS})" in options["--epochs"]
    status, out, _ = run(capsys, "train", "--help")
    offered = re.search(r"--activation \{([\w,]+)\}", out).group(1).split(",")
    assert offered == cli.HIDDEN_ACTIVATIONS
    assert set(offered) == set(activations.names()) - {"step", "softmax"}
    optimizers_offered = re.search(r"--optimizer \{([\w,]+)\}", out).group(1).split(",")
    assert optimizers_offered == list(optimizers.names())


def test_the_defaults_a_user_relies_on_without_reading_help():
    """The documented behaviour of a bare ``glassnet train``, a bare ``glassnet lab``."""
    args = parse("train")
    assert (args.data, args.label, args.seed) == ("digits", -1, 0)
    assert (args.activation, args.optimizer, args.batch_size, args.patience) == \
        ("relu", "adam", 32, 20)
    assert args.layers is args.lr is args.epochs is args.validation is args.scale is None
    assert (args.out, args.device, args.plot, args.quiet) == ("model.glassnet", "cpu", None,
                                                              False)
    args = parse("evaluate", "m.glassnet")
    assert (args.model, args.data, args.label, args.seed, args.split, args.plot) == \
        ("m.glassnet", "digits", -1, None, None, None)
    args = parse("predict", "m", "x.csv")
    assert (args.model, args.input, args.label, args.out) == ("m", "x.csv", None, None)
    for command in ("explain", "report"):
        args = parse(command, "m")
        assert (args.model, args.data, args.label, args.seed, args.sample) == \
            ("m", "digits", -1, None, None)
    assert parse("report", "m").out == "report.html"
    assert not hasattr(parse("explain", "m"), "out")
    args = parse("lab")
    assert (args.data, args.label, args.port, args.no_browser) == (None, "-1", 0, False)
    args = parse("export", "m", "m.onnx")
    assert (args.model, args.output) == ("m", "m.onnx")


# -- the README's command lines --------------------------------------------------------

def readme_command_lines():
    """Every ``glassnet ...`` line of the README's shell blocks, and the inline ones."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines, fence = [], None
    for line in text.splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
        elif fence in ("bash", "sh", "console", "") and line.startswith("glassnet "):
            lines.append(line.split("  #")[0].strip())
    for inline in re.findall(r"`(glassnet [^`]+)`", text.replace("\n", " ")):
        if "..." not in inline and "|" not in inline and "NAME" not in inline:
            lines.append(inline)
    return lines


def test_every_command_line_the_readme_shows_parses_as_documented():
    lines = readme_command_lines()
    assert len(lines) >= 20
    seen = set()
    for line in lines:
        argv = shlex.split(line)[1:]
        args = parse(*argv)          # a SystemExit here: the README shows a line that fails
        seen.add(args.command)
        assert args.run is getattr(cli, f"cmd_{args.command}"), line
        if args.command == "demo":   # the rest is the demo's own
            continue
        for option, value in zip(argv, argv[1:]):
            if option.startswith("--"):
                parsed = getattr(args, option[2:].replace("-", "_"))
                assert parsed == (cli._layers(value) if option == "--layers" else
                                  type(parsed)(value)), (line, option, value, parsed)
    assert seen == set(COMMANDS)


def test_the_labs_documented_options_reach_the_lab(monkeypatch, capsys):
    """README: ``glassnet lab (--data spirals|FILE.csv, --label COLUMN, --port N,
    --no-browser)``."""
    calls = []
    monkeypatch.setattr(glassnet.lab, "serve", lambda **kw: calls.append(kw))
    status, _, _ = run(capsys, "lab", "--data", "spirals", "--label", "kind", "--port", "8123",
                       "--no-browser")
    assert status == 0 and calls == [dict(data="spirals", port=8123, open_browser=False,
                                          label="kind")]
    status, _, _ = run(capsys, "lab")
    assert status == 0 and calls[1] == dict(data=None, port=0, open_browser=True, label="-1")


def test_a_lab_that_cannot_start_is_a_usage_error(monkeypatch, capsys):
    def refuse(**kw):
        raise glassnet.lab.session.LabError("unknown data set 'nope'; the lab has xor, ...")
    monkeypatch.setattr(glassnet.lab, "serve", refuse)
    status, out, err = run(capsys, "lab", "--data", "nope")
    assert status == 2 and out == ""
    assert err.startswith("usage: glassnet") and \
        err.endswith("glassnet: error: unknown data set 'nope'; the lab has xor, ...\n")


# -- values refused before anything runs (status 2, the option named) -------------------

@pytest.mark.parametrize("argv, message", [
    (["train", "--activation", "step"], "argument --activation: invalid choice: 'step'"),
    (["train", "--activation", "softmax"], "argument --activation: invalid choice: 'softmax'"),
    (["train", "--optimizer", "adamw2"], "argument --optimizer: invalid choice: 'adamw2'"),
    (["train", "--device", "gpu"], "argument --device: invalid choice: 'gpu'"),
    (["train", "--scale", "log"], "argument --scale: invalid choice: 'log'"),
    (["evaluate", "m", "--split", "train"], "argument --split: invalid choice: 'train'"),
    (["train", "--lr", "0"], "argument --lr: must be positive; received '0'"),
    (["train", "--lr", "fast"], "argument --lr: expected a float; received 'fast'"),
    (["train", "--epochs", "1.5"], "argument --epochs: expected a int; received '1.5'"),
    (["train", "--epochs", "0"], "argument --epochs: must be positive; received '0'"),
    (["train", "--patience", "-3"], "argument --patience: must be positive; received '-3'"),
    (["train", "--batch-size", "0"], "argument --batch-size: must be positive; received '0'"),
    (["train", "--validation", "1"], "argument --validation: must be in [0, 1); received '1'"),
    (["train", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
    (["explain", "m", "--sample", "first"], "argument --sample: invalid int value: 'first'"),
    (["lab", "--port", "http"], "argument --port: invalid int value: 'http'"),
    ([], "the following arguments are required: COMMAND"),
    (["fit"], "argument COMMAND: invalid choice: 'fit'"),
    (["predict", "m"], "the following arguments are required: input"),
    (["export", "m"], "the following arguments are required: output"),
    (["summary"], "the following arguments are required: model"),
    (["demo"], "the following arguments are required: name"),
])
def test_a_bad_command_line_is_refused_with_status_2(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and message in err, err
    assert err.startswith("usage: glassnet")


def test_option_values_arrive_with_their_types():
    args = parse("train", "--lr", "1e-3", "--epochs", "7", "--patience", "4", "--batch-size",
                 "128", "--validation", "0", "--seed", "-5", "--layers", "128,64",
                 "--activation", "tanh", "--optimizer", "sgd", "--scale", "minmax",
                 "--device", "cuda", "--quiet", "--plot", "c.png", "--out", "o.glassnet",
                 "--data", "xor", "--label", "2")
    assert (args.lr, args.epochs, args.patience, args.batch_size, args.validation) == \
        (0.001, 7, 4, 128, 0.0)
    assert type(args.lr) is float and type(args.epochs) is int and type(args.validation) is float
    assert (args.seed, args.layers, args.activation, args.optimizer, args.scale) == \
        (-5, [128, 64], "tanh", "sgd", "minmax")
    assert (args.device, args.quiet, args.plot, args.out, args.data, args.label) == \
        ("cuda", True, "c.png", "o.glassnet", "xor", 2)
    assert parse("train", "--layers", "none").layers == []
    assert parse("evaluate", "m", "--split", "all", "--seed", "3").seed == 3
    assert parse("explain", "m", "--sample", "4").sample == 4
    assert parse("lab", "--port", "0").port == 0


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "explain", "report"])
@pytest.mark.parametrize("given, expected", [("3", 3), ("0", 0), ("-1", -1), ("-12", -12),
                                             ("digit", "digit"), ("x1", "x1"),
                                             ("-x", "-x"), ("1.5", "1.5"), ("", "")])
def test_label_is_an_index_when_it_is_a_whole_number_else_a_name(command, given, expected):
    args = parse(command, *POSITIONALS[command], f"--label={given}")
    assert args.label == expected and type(args.label) is type(expected)


def test_every_activation_and_optimizer_offered_is_accepted():
    for name in cli.HIDDEN_ACTIVATIONS:
        assert parse("train", "--activation", name).activation == name
    for name in optimizers.names():
        assert parse("train", "--optimizer", name).optimizer == name
    for name in catalog.SCALINGS:
        assert parse("train", "--scale", name).scale == name
    for name in ("cpu", "cuda"):
        assert parse("train", "--device", name).device == name
    assert set(catalog.SCALINGS) == {"none", "standard", "minmax", "pixels"}   # README's list


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_runs_its_own_function(command):
    assert parse(command, *POSITIONALS[command]).run is getattr(cli, f"cmd_{command}")


# -- --debug before or after the command -------------------------------------------------

@pytest.mark.parametrize("argv, debug", [
    (["summary", "m"], False), (["--debug", "summary", "m"], True),
    (["summary", "m", "--debug"], True), (["--debug", "summary", "m", "--debug"], True)])
def test_debug_is_seen_before_or_after_the_command(argv, debug):
    assert parse(*argv).debug is debug


# -- demo: its arguments pass through untouched -----------------------------------------

def test_demo_passes_every_argument_after_its_name_to_the_demo():
    args = parse("demo", "cubic", "--plot", "cubic.png", "--epochs", "3", "-v")
    assert (args.name, args.demo_args) == ("cubic", ["--plot", "cubic.png", "--epochs", "3", "-v"])
    assert parse("demo", "xor").demo_args == []


def test_demo_names_are_the_demo_modules_sorted_and_help_lists_them(capsys):
    folder = Path(glassnet.demos.__file__).parent
    on_disk = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
    assert cli.demo_names() == on_disk and len(on_disk) >= 10
    status, out, _ = run(capsys, "demo", "--help")
    assert f"one of {', '.join(on_disk)}" in out


# -- main: the exit status and the one line for each kind of error -----------------------

def _failing(exc):
    def command(args):
        print("partial output")
        raise exc
    return command


@pytest.mark.parametrize("exc, status", [
    (cli.UsageError("no such column 'x'"), 2),
    (catalog.UnknownDataset("unknown data set 'x'"), 2),
    (ValueError("bad value"), 1), (OSError("disk full"), 1), (ImportError("no onnx"), 1),
    (RuntimeError("diverged"), 1), (FloatingPointError("overflow"), 1)])
def test_each_kind_of_error_has_its_exit_status_and_one_line(monkeypatch, capsys, exc, status):
    monkeypatch.setattr(cli, "cmd_summary", _failing(exc))
    code, out, err = run(capsys, "summary", "m")
    assert code == status and out == "partial output\n"
    message = f"glassnet: error: {exc}\n"
    if status == 2:       # a usage error shows the usage first
        assert err == cli.make_parser().format_usage() + message
    else:
        assert err == message
    with pytest.raises(type(exc)):
        cli.main(["summary", "m", "--debug"])
    assert capsys.readouterr().out == "partial output\n"


def test_a_bug_is_not_dressed_as_a_user_error(monkeypatch):
    monkeypatch.setattr(cli, "cmd_summary", _failing(KeyError("weights")))
    with pytest.raises(KeyError):
        cli.main(["summary", "m"])
    assert not isinstance(sys.stdout, cli._QuietPipe)


def test_ctrl_c_is_status_130_and_one_line(monkeypatch, capsys):
    monkeypatch.setattr(cli, "cmd_summary", _failing(KeyboardInterrupt()))
    code, out, err = run(capsys, "summary", "m")
    assert (code, err) == (130, "glassnet: interrupted\n")


def test_main_returns_the_commands_status_and_restores_stdout(monkeypatch, capsys):
    seen = []
    def command(args):
        seen.append(sys.stdout)
        print("hello")
        return 0
    monkeypatch.setattr(cli, "cmd_summary", command)
    before = sys.stdout
    code, out, err = run(capsys, "summary", "m")
    assert (code, out, err) == (0, "hello\n", "")
    assert sys.stdout is before and isinstance(seen[0], cli._QuietPipe)


def test_warnings_are_one_line_on_stderr(monkeypatch, capsys):
    """Python prints a warning with ``warnings.formatwarning``: the command line's is one line."""
    def command(args):
        print(warnings.formatwarning("the learning rate is large", UserWarning,
                                     "/site-packages/glassnet/trainer.py", 123),
              file=sys.stderr, end="")
        return 0
    monkeypatch.setattr(cli, "cmd_summary", command)
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)   # restored after
    code, out, err = run(capsys, "summary", "m")
    assert code == 0 and err == "glassnet: warning: the learning rate is large\n"


# -- | head: the reader goes away, the command goes on quietly ---------------------------

def test_quiet_pipe_swallows_output_once_the_reader_has_gone():
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w", buffering=1)
    try:
        pipe = cli._QuietPipe(stream)
        assert pipe.write("epoch 1\n") == 8 and not pipe.closed_pipe
        pipe.flush()
        assert os.read(read_end, 100) == b"epoch 1\n"
        os.close(read_end)                         # `head` has read its lines and exited
        assert pipe.write("epoch 2\n") == 8          # BrokenPipeError swallowed
        assert pipe.closed_pipe
        # the descriptor now points at /dev/null: Python's own flush at exit cannot fail
        stream.write("x" * 100_000)
        stream.flush()
        assert pipe.write("epoch 3\n") == 8
        pipe.flush()
        # everything else is the stream's own
        assert pipe.fileno() == write_end and pipe.isatty() is False
        assert pipe.encoding == stream.encoding
    finally:
        stream.close()


def test_quiet_pipe_flush_notices_the_reader_going_too():
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w", buffering=1 << 16)
    try:
        pipe = cli._QuietPipe(stream)
        pipe.write("buffered, not yet sent\n")
        os.close(read_end)
        pipe.flush()                                 # the write happens here and fails
        assert pipe.closed_pipe
        stream.write("more")
        stream.flush()                               # /dev/null now: no error
    finally:
        stream.close()


def test_quiet_pipe_passes_everything_through_while_the_reader_is_there(capsys):
    pipe = cli._QuietPipe(sys.stdout)
    pipe.write("a\n")
    pipe.write("")
    pipe.flush()
    assert capsys.readouterr().out == "a\n" and not pipe.closed_pipe


def test_the_data_set_defaults_help_names_are_the_catalogs(capsys):
    """--layers, --lr and --scale name the defaults each data set brings."""
    options = help_options(capsys, "train")
    xor, digits = catalog.load("xor"), catalog.load("digits")
    assert f"{xor.hidden[0]} for xor, {','.join(map(str, digits.hidden))} for digits" in \
        options["--layers"]
    assert f"{xor.learning_rate} for xor, 0.001 for digits" in options["--lr"]
    assert digits.learning_rate is None and optimizers.get("adam").learning_rate == 0.001
    assert xor.scale == "none" and "(the default for xor and the other toy sets)" in \
        options["--scale"]
