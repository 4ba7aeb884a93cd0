"""The ``glassnet`` command: train, evaluate, predict, summary, export, explain, report, demo.

Errors are one line on stderr and a non-zero exit status (2 for usage
errors, 130 after Ctrl-C); ``--debug`` (before or after the command) shows
the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import os

try:                      # POSIX: the process's own limits (ulimit -v)
    import resource
except ImportError:       # pragma: no cover - Windows
    resource = None
import pkgutil
import runpy
import sys
import time
import warnings

import numpy as np

from . import activations, callbacks, datasets, demos, lab, load_model, optimizers
from ._text import format_logs, format_table
from .datasets import catalog, files
from .datasets.preprocessing import validation_split
from .export import OPSET
from .io import check_target
from .model import build_mlp
from .plotting import (class_of, confusion_matrix, plot_confusion_matrix, plot_decision_regions,
                       plot_function_fit, plot_history, plot_predicted_vs_target)
from .lab.session import LabError
from .report import worst_sample, write_report

EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def _layers(text):
    """--layers: hidden layer sizes ``128,64``, or ``none`` for no hidden layer."""
    if text.strip().lower() == "none":
        return []
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 128,64 (or "
                                         f"'none' for no hidden layer); received {text!r}") \
            from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive; received {text!r}")
    return sizes


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}; received {text!r}") \
                from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive; received {text!r}")
        return value
    return parse


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1); received {text!r}")
    return value


def _print_table(rows):
    print("\n".join(format_table(rows)))


#: without --epochs, training stops once the monitored loss has not improved for
#: --patience epochs, after at most this many
MAX_EPOCHS = 1000
#: a label column with more classes than this share of the rows is not a column of classes
MAX_CLASS_SHARE = 0.5


def _available_memory():
    """Bytes this process could still allocate (MemAvailable, and a cgroup's limit), or None."""
    found = []
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        with contextlib.suppress(ValueError, OSError, AttributeError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    with contextlib.suppress(OSError, ValueError):          # a container's limit, less its use
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as limit, \
                open("/sys/fs/cgroup/memory.current", encoding="ascii") as used:
            found.append(int(limit.read()) - int(used.read()))   # "max" (none): ValueError
    with contextlib.suppress(OSError, ValueError, AttributeError):   # ulimit -v, less mapped
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm", encoding="ascii") as statm:
                mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            found.append(soft - mapped)
    return max(min(found), 0) if found else None


def _bytes(n_bytes):
    if n_bytes < 2 ** 30:
        return f"{n_bytes / 2 ** 20:,.1f} MiB"
    return f"{n_bytes / 2 ** 30:,.1f} GiB"


def network_memory(n_inputs, hidden, n_outputs, optimizer="adam", itemsize=4):
    """The weight count of an MLP and the bytes training it holds, before it exists.

    Training keeps the weights, their gradients, the optimizer's state vectors
    (Adam: two) and two more copies (the last finite weights, kept against
    divergence, and early stopping's best ones).

    Returns
    -------
    (weights, bytes) : int, int
    """
    sizes = [int(n_inputs), *map(int, hidden), int(n_outputs)]
    weights = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    slots = len(optimizers.get(optimizer).state_names)
    # and the float64 draw of the largest kernel while it is initialised
    largest = max(a * b for a, b in zip(sizes, sizes[1:]))
    return weights, weights * itemsize * (4 + slots) + 8 * largest


def _check_fits_in_memory(n_inputs, layers, n_outputs, optimizer):
    weights, needed = network_memory(n_inputs, layers, n_outputs, optimizer)
    available = _available_memory()
    if available is not None and needed > available:
        shape = " -> ".join(map(str, [n_inputs, *layers, n_outputs]))
        raise ValueError(f"the network {shape} has {weights:,} weights: training it needs "
                         f"about {_bytes(needed)} (weights, gradients, the optimizer's state and "
                         f"two copies), more than the {_bytes(available)} of memory available; "
                         f"choose fewer or smaller --layers")


def _check_data_path(spec):
    """A path given as --data must be a regular file or a directory, named for what it is."""
    if catalog.ALIASES.get(spec, spec) in catalog.CATALOG or not os.path.exists(spec):
        return
    if not os.path.isdir(spec):
        files.check_data_file(spec)          # /dev/zero, a FIFO: refused by name


def _label_name(args):
    header = _header(args.data)
    label = args.label
    if isinstance(label, int) and header and -len(header) <= label < len(header):
        return f"column {label % len(header) + 1} ({header[label]!r})"
    return f"{label!r}" if isinstance(label, str) else f"column index {label}"


def _header(path):
    """The column names of a CSV file's header line, or None (no header, not a file)."""
    try:
        return files.read_header(path)
    except (OSError, ValueError):
        return None


def _load(args, **kwargs):
    """catalog.load, with what to do about a non-numeric feature: name --label."""
    _check_data_path(args.data)
    try:
        data = catalog.load(args.data, seed=args.seed, label=args.label, **kwargs)
    except files.CSVFieldError as exc:
        column = exc.header if exc.header else exc.column - 1
        raise ValueError(f"{exc}; glassnet read column {exc.column} as a feature because the "
                         f"label is {_label_name(args)}: if column {exc.column} is the label, "
                         f"give --label {column}") from None
    return data


def _print_columns(args, data):
    """Never guessed silently: say whether a CSV file's first line was its header or data."""
    if catalog.ALIASES.get(args.data, args.data) in catalog.CATALOG \
            or not os.path.isfile(args.data):
        return
    print(_columns_line(args.data, data.columns), flush=True)


def _columns_line(path, columns):
    """One line saying whether a CSV file's first line was read as its header or as data."""
    if columns is not None:
        shown = ", ".join(map(repr, columns[:8])) + (", ..." if len(columns) > 8 else "")
        return f"Columns: the first line of {path} is its header ({shown})"
    return (f"Columns: {path} has no header line: its first line is data, and its columns are "
            f"numbered from 0 (--label INDEX)")


def _check_classes(data, args):
    """A label column with a class for (nearly) every row is not one: say what to do."""
    if data.task != "multiclass" or not os.path.isfile(args.data):
        return
    rows = len(data.x_train) + len(data.x_test)
    if len(data.labels) > max(2, MAX_CLASS_SHARE * rows):
        header = _header(args.data)
        raise ValueError(f"the label column of {args.data!r}, {_label_name(args)}, holds "
                         f"{len(data.labels)} different values in {rows} rows, so most classes "
                         f"have a single example: it is not a column of classes (an "
                         f"identifier? a measurement?). Give the label column with --label "
                         f"NAME or --label INDEX"
                         + (f"; the columns are {header}" if header else ""))


class EpochLines(callbacks.Callback):
    """At most a screenful of epoch lines: epochs 1-5, every 10th to 100, every 100th to
    1000 (and so on), and the last.  On a terminal, the epochs between are shown on one
    status line that each epoch overwrites."""

    def __init__(self, epochs, stream=None):
        super().__init__()
        self.epochs, self.stream = epochs, stream
        self.printed = self.last = None
        self.status = False                 # a status line waits to be overwritten

    @staticmethod
    def shown(n):
        """Whether epoch ``n`` (from 1) gets a line."""
        return n <= 5 or n % 10 ** max(1, len(str(n)) - 1) == 0

    def _write(self, n, logs, end):
        stream = self.stream or sys.stdout
        clear = "\r\x1b[K" if self.status else ""
        stream.write(f"{clear}Epoch {n}/{self.epochs} - {format_logs(logs or {})}{end}")
        stream.flush()
        self.status = not end

    def on_train_begin(self, logs=None):
        self.printed = self.last = None
        self.status = False

    def on_epoch_end(self, epoch, logs=None):
        self.last = (epoch + 1, dict(logs or {}))
        if self.shown(epoch + 1):
            self._write(*self.last, "\n")
            self.printed = epoch + 1
        elif getattr(self.stream or sys.stdout, "isatty", lambda: False)():
            self._write(*self.last, "")

    def on_train_end(self, logs=None):
        if self.last is not None and self.last[0] != self.printed:
            self._write(*self.last, "\n")
            self.printed = self.last[0]


def cmd_train(args):
    for path in (args.out, args.plot):      # a read-only --out fails now, not after training
        if path:
            check_target(path)
    data = _load(args)
    _check_classes(data, args)
    layers = args.layers if args.layers is not None else data.hidden
    _check_fits_in_memory(data.x_train.shape[1], layers, data.n_outputs, args.optimizer)
    lr = args.lr if args.lr is not None else data.learning_rate
    if args.validation is None:
        args.validation = 0.1 if len(data.x_train) >= 50 else 0.0
    parts = {"train": (data.x_train, data.y_train)}
    if args.validation:
        # a seeded random sample (stratified by class): sorted data still validates on all
        labels = data.y_train if data.task == "multiclass" else None
        train, val = validation_split([data.x_train, data.y_train], args.validation,
                                      rng=np.random.default_rng(args.seed), stratify=labels)
        if not len(val[0]):         # classes too small for a share of each: say so, then
            print(f"Validation: the classes have too few rows each for a stratified "
                  f"{args.validation:g} of every class; a plain random sample is held out")
            train, val = validation_split([data.x_train, data.y_train], args.validation,
                                          rng=np.random.default_rng(args.seed))
        parts = {"train": tuple(train), "validation": tuple(val)}
    parts["test"] = (data.x_test, data.y_test)
    front, how = catalog.scaling_layers(data, args.scale or data.scale, parts["train"][0])
    model = build_mlp(data.n_outputs, data.task, layers, args.activation, args.optimizer, lr,
                      front=front, seed=args.seed, device=args.device)
    model.class_names = data.labels or None
    n_val = len(parts["validation"][0]) if "validation" in parts else 0
    monitor = "val_loss" if n_val else "loss"
    if args.epochs is not None:
        epochs, stopper = args.epochs, None
        plan = f"{epochs} epochs"
    else:
        epochs = MAX_EPOCHS
        stopper = callbacks.EarlyStopping(monitor, patience=args.patience,
                                          restore_best_weights=True)
        plan = (f"until the {'validation' if n_val else 'training'} loss has not improved for "
                f"{args.patience} epochs (at most {epochs}; the best epoch's weights are kept; "
                f"--epochs N trains exactly N)")
    _print_columns(args, data)
    print(f"Training on {args.data}: {len(parts['train'][0])} samples"
          + (f" (and {n_val} held out for validation)" if n_val else "")
          + f", {data.x_train.shape[1]} features -> {data.n_outputs} outputs; layers {layers}, "
          f"{args.activation}, {args.optimizer}", flush=True)
    print(f"Epochs: {plan}", flush=True)
    print(f"Preprocessing: {how}", flush=True)
    start = time.perf_counter()
    watchers = [] if args.quiet else [EpochLines(epochs)]
    history = model.fit(*parts["train"], epochs=epochs, batch_size=args.batch_size,
                        validation_data=parts.get("validation"), verbose=0,
                        callbacks=watchers + ([stopper] if stopper else []))
    elapsed = time.perf_counter() - start
    if stopper is not None and stopper.best_epoch is not None:
        ran = len(history.epoch)
        why = ("stopped early" if stopper.stopped_epoch is not None else
               "interrupted" if history.interrupted else "reached the cap")
        print(f"{why} after {ran} epochs: the {monitor} was best at epoch "
              f"{stopper.best_epoch + 1} ({stopper.best:.4f}); its weights are kept", flush=True)
    metric = "accuracy" if data.task != "regression" else "mae"
    rows = [("split", "loss", metric, "rows")]
    for name, (x, y) in parts.items():
        if len(x):
            res = model.evaluate(x, y, return_dict=True)
            rows.append((name, f"{res['loss']:.4f}", f"{res[metric]:.4f}", str(len(x))))
    print()
    _print_table(rows)
    print(f"\ntime: {elapsed:.2f} s for {len(history.epoch)} epochs"
          + (" (interrupted)" if history.interrupted else ""))
    model.save(args.out)
    print(f"model saved to {args.out}")
    if args.plot:
        plot_history(history, args.plot, title=f"glassnet on {args.data}")
        print(f"training curves saved to {args.plot}")
    return EXIT_INTERRUPTED if history.interrupted else 0


def _data_for(model, args):
    """The rows of ``--data`` a trained model is scored on, and a sentence saying which.

    A named data set gives its test split (``--split all``: every row); a CSV file
    every row (``--split test``: the rows ``glassnet train`` held out as its test
    split, drawn again with the model's seed).  Without ``--seed`` the seed is the
    model's own (what ``glassnet train --seed`` gave it), else 0.
    """
    if args.seed is None:
        seed = getattr(model, "seed", None)
        args.seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else 0
    is_file = os.path.isfile(args.data)
    split = getattr(args, "split", None) or ("all" if is_file else "test")
    names = model.class_names if is_file else None
    if is_file and split == "all":
        data = _load(args, for_training=False, class_names=names)
        rows = (f"all {len(data.x_test)} rows of {args.data} (rows the model was trained on "
                f"included; --split test scores only the rows 'glassnet train --seed "
                f"{args.seed}' held out)")
    else:
        data = _load(args, class_names=names)
        if split == "all":
            data.x_test = np.concatenate([data.x_train, data.x_test])
            data.y_test = np.concatenate([data.y_train, data.y_test])
            rows = f"all {len(data.x_test)} rows of {args.data} (training rows included)"
        else:
            rows = (f"the {len(data.x_test)} rows of {args.data} held out as the test split "
                    f"(seed {args.seed}): the model never trained on them if 'glassnet train' "
                    f"trained it on this data with this seed")
    if not len(data.x_test):
        raise ValueError(f"{args.data!r} has no rows to score in its {split} split")
    if model.input_dim != data.x_test.shape[1]:
        raise ValueError(f"the model expects {model.input_dim} features but {args.data!r} has "
                         f"{data.x_test.shape[1]}"
                         + (f" (label column: {_label_name(args)})" if is_file else ""))
    return data, rows


def cmd_evaluate(args):
    model = load_model(args.model)
    data, rows = _data_for(model, args)
    if model.loss is None:
        raise ValueError(f"{args.model!r} was saved without compile settings; cannot evaluate")
    print(f"Scored: {rows}")
    _print_columns(args, data)
    print()
    x, y = data.x_test, data.y_test
    print(format_logs(model.evaluate(x, y, return_dict=True)))
    out = model.predict(x)
    names = list(model.class_names or data.labels or [])
    if data.task != "regression":
        k = max(model.output_dim, 2)
        names = names or [str(i) for i in range(k)]
        matrix = confusion_matrix(y if y.ndim == 1 else class_of(y), class_of(out), k)
        print("\nconfusion matrix (rows: true class, columns: predicted)")
        _print_table([[""] + names] + [[names[i]] + list(map(str, row))
                                       for i, row in enumerate(matrix)])
    if not args.plot:
        return 0
    if x.shape[1] == 2 and data.task != "regression":
        plot_decision_regions(model, x, y, path=args.plot, class_names=names)
        what = "decision regions"
    elif data.task == "regression" and x.shape[1] == 1:
        plot_function_fit(x, y, out, path=args.plot, title="Target and prediction")
        what = "fitted function"
    elif data.task == "regression":
        plot_predicted_vs_target(y, out, path=args.plot)
        what = "predicted vs target"
    else:
        plot_confusion_matrix(matrix, names, path=args.plot)
        what = "confusion matrix"
    print(f"{what} saved to {args.plot}")
    return 0


def _label_like_columns(x, model):
    """Columns whose every value could be one of the model's classes (its index or name)."""
    names = model.class_names or ()
    found = []
    for j in range(x.shape[1]):
        column = x[:, j]
        whole = bool(np.all(column == np.round(column)))
        if whole and names and (np.all((column >= 0) & (column < len(names)))
                                or {str(int(v)) for v in column} <= set(names)):
            found.append(j)
    return found


def cmd_predict(args):
    model = load_model(args.model)
    _check_data_path(args.input)
    header = _header(args.input)
    try:
        x = datasets.load_csv(args.input, label_column=args.label)
    except files.CSVFieldError as exc:
        if args.label is not None:
            raise
        column = exc.header if exc.header else exc.column - 1
        raise ValueError(f"{exc}: is column {exc.column} the label column? predict reads "
                         f"features only; drop it with --label {column}") from None
    if args.label is not None:
        x = x[0]
    if x.shape[1] != model.input_dim:
        message = (f"{args.input!r} has {x.shape[1]} feature columns but the model expects "
                   f"{model.input_dim} features")
        if x.shape[1] == model.input_dim + 1 and args.label is None:
            guess = _label_like_columns(x, model)
            if len(guess) == 1:
                j = guess[0]
                name = repr(header[j]) if header else f"index {j}"
                message += (f": one too many. Column {j + 1} ({name}) holds only class labels "
                            f"of the model: is it the label column? drop it with --label "
                            f"{header[j] if header else j}")
            else:
                message += (": one too many; if the file still has its label column, drop it "
                            "with --label NAME_OR_INDEX")
        raise ValueError(message)
    out = model.predict(x)
    classify = (model.loss is not None and "crossentropy" in model.loss.name
                and out.shape[1] > 1)            # a classifier's classes; else the numbers
    if classify:
        names = list(model.class_names or [str(i) for i in range(out.shape[1])])
        lines = ["class," + ",".join(f"p_{n}" for n in names)]
        lines += [names[c] + "," + ",".join(f"{p:.6g}" for p in row)
                  for c, row in zip(out.argmax(axis=1), out)]
    else:
        lines = [",".join(f"y{i}" for i in range(out.shape[1]))]
        lines += [",".join(f"{v:.6g}" for v in row) for row in out]
    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"{len(out)} predictions written to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_summary(args):
    model = load_model(args.model)
    model.summary()
    if model.loss is not None:
        print(f"Loss: {model.loss.name}; optimizer: {model.optimizer!r}; "
              f"steps trained: {model.optimizer.iterations}")
    return 0


def cmd_export(args):
    model = load_model(args.model)
    model.export_onnx(args.output)
    print(f"{args.model} exported to {args.output} (ONNX opset {OPSET}, input 'input', "
          f"output 'output')")
    return 0


def _sample(args):
    model = load_model(args.model)
    data, _ = _data_for(model, args)
    if args.sample is None:             # the first test sample the model gets most wrong
        args.sample = worst_sample(model, data.x_test, data.y_test) \
            if model.loss is not None else 0
    if not 0 <= args.sample < len(data.x_test):
        raise ValueError(f"--sample must be in 0..{len(data.x_test) - 1}; received {args.sample}")
    return model, data


def cmd_explain(args):
    model, data = _sample(args)
    x, y = data.x_test[args.sample], data.y_test[args.sample]
    print(f"Sample {args.sample} of {args.data} (target {y}):\n")
    print(model.trace(x, y if model.loss is not None else None))
    return 0


def cmd_report(args):
    model, data = _sample(args)
    n = min(len(data.x_test), 2000)
    write_report(args.out, model, data.x_test[:n], data.y_test[:n], sample=args.sample)
    print(f"report written to {args.out}")
    return 0


#: short names of some demos, beside their module names (``glassnet demo grid-search``)
DEMO_ALIASES = {"predefined": "image2x2_predefined", "image2x2": "image2x2_recognition",
                "network": "configurable_network", "grid_search": "sklearn_grid_search"}
#: the optional package a demo may need → the extra that installs it
EXTRAS = {"matplotlib": "plot", "PIL": "plot", "sklearn": "sklearn", "dask": "dask",
          "distributed": "dask", "onnx": "onnx", "tqdm": "cli"}


def demo_names():
    """Every demo's module name (the package ``glassnet.demos``), sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(demos.__path__))


def cmd_demo(args):
    name = args.name.replace("-", "_")          # xor-regions and xor_regions alike
    module = DEMO_ALIASES.get(name, name)
    if module not in demo_names():
        raise UsageError(f"unknown demo {args.name!r}; the demos are "
                         f"{', '.join(demo_names() + sorted(DEMO_ALIASES))}")
    sys.argv = [f"glassnet demo {args.name}", *args.demo_args]
    try:
        runpy.run_module(f"glassnet.demos.{module}", run_name="__main__", alter_sys=True)
    except ModuleNotFoundError as exc:
        root = (exc.name or "").split(".")[0]
        if root not in EXTRAS:
            raise
        raise ImportError(f'the demo {args.name!r} needs {root}: pip install '
                          f'"glassnet[{EXTRAS[root]}]"') from None
    return 0


def cmd_lab(args):
    try:
        lab.serve(data=args.data, port=args.port, open_browser=not args.no_browser,
                  label=args.label)
    except LabError as exc:             # e.g. an unknown data set: a usage error
        raise UsageError(str(exc)) from None
    return 0


class UsageError(ValueError):
    """A command line that asks for something that does not exist (exit status 2)."""


#: hidden-layer activations offered by --activation (step cannot train; softmax is an output)
HIDDEN_ACTIVATIONS = [name for name in activations.names() if name not in ("step", "softmax")]


#: the help of every command's ``model`` argument
MODEL_HELP = "a model file saved by 'glassnet train' or model.save (.glassnet)"


def make_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")
    parser = argparse.ArgumentParser(
        prog="glassnet", description="glassnet: a neural network you can read, written with "
        "NumPy alone.", epilog="Run 'glassnet COMMAND --help' for a command's options.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                title="commands")

    def command(name, helptext, run):
        p = sub.add_parser(name, help=helptext, description=helptext, parents=[common])
        p.set_defaults(run=run)
        return p

    def data_options(p, default="digits", seed=0, split="the test split"):
        p.add_argument("--data", default=default,
                       help=f"{', '.join(catalog.names())}, a CSV file or an IDX directory "
                            f"(default: {default})")
        p.add_argument("--label", default=-1, type=_column,
                       help="the label column of a CSV file: its name or index (default: -1, "
                            "the last; 0 is the first)")
        p.add_argument("--seed", type=int, default=seed,
                       help="seeds the splits and the weights (default: 0)" if seed is not None
                       else f"the seed of {split} (default: the model's, as 'glassnet "
                            f"train --seed' set it)")

    train = command("train", "train a network (default: the embedded digits)", cmd_train)
    data_options(train)
    train.add_argument("--layers", type=_layers,
                       help="hidden layer sizes, e.g. 128,64, or none (default: the data "
                            "set's own: 4 for xor, 128,64 for digits, 128 for a CSV file)")
    train.add_argument("--activation", default="relu", choices=HIDDEN_ACTIVATIONS,
                       help="hidden-layer activation (default: relu)")
    train.add_argument("--optimizer", default="adam", choices=optimizers.names(),
                       help="the update rule (default: adam)")
    train.add_argument("--lr", type=_positive(float),
                       help="learning rate (default: the data set's own: 0.05 for xor, 0.001 "
                            "for digits and CSV files)")
    train.add_argument("--epochs", type=_positive(int),
                       help=f"train exactly this many epochs (default: until the validation "
                            f"loss stops improving, at most {MAX_EPOCHS})")
    train.add_argument("--patience", type=_positive(int), default=20,
                       help="without --epochs: stop after this many epochs without improvement "
                            "(default: 20)")
    train.add_argument("--batch-size", type=_positive(int), default=32,
                       help="samples per gradient step (default: 32)")
    train.add_argument("--validation", type=_fraction,
                       help="fraction of the training data held out, a stratified random sample "
                            "(default: 0.1, or 0 for data sets under 50 samples such as xor)")
    train.add_argument("--scale", choices=catalog.SCALINGS,
                       help="how to scale the inputs: standard (per feature, from the training "
                            "rows; the default for CSV files), minmax, pixels (the default for "
                            "image data) or none (the default for xor and the other toy sets)")
    train.add_argument("--out", default="model.glassnet",
                       help="model file to write (default: model.glassnet)")
    train.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                       help="train on the CPU (NumPy) or an NVIDIA GPU (CuPy: "
                            "pip install 'glassnet[cuda]') (default: cpu)")
    train.add_argument("--plot", help="save the training curves to this PNG")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress")

    evaluate = command("evaluate", "loss, accuracy, confusion matrix, and a picture",
                       cmd_evaluate)
    evaluate.add_argument("model", help=MODEL_HELP)
    data_options(evaluate, seed=None)
    evaluate.add_argument("--split", choices=("test", "all"),
                          help="which rows to score: the test split that 'glassnet train' held "
                               "out, or all (default: test for a named data set, all for a "
                               "file)")
    evaluate.add_argument("--plot", help="save a picture to this PNG: decision regions (2 "
                                         "inputs), the fit (regression) or the confusion "
                                         "matrix")

    predict = command("predict", "predictions for a CSV file of features", cmd_predict)
    predict.add_argument("model", help=MODEL_HELP)
    predict.add_argument("input", help="a CSV file of features (no label column, or name it "
                                       "with --label)")
    predict.add_argument("--label", type=_column, default=None,
                         help="a label column to drop: its name or index (default: none)")
    predict.add_argument("--out", help="CSV file to write (default: standard output)")

    summary = command("summary", "print a saved model's layers", cmd_summary)
    summary.add_argument("model", help=MODEL_HELP)

    export = command("export", "export a saved model to ONNX (needs glassnet[onnx])",
                     cmd_export)
    export.add_argument("model", help=MODEL_HELP)
    export.add_argument("output", help="the .onnx file to write")

    for name, helptext, run in (
            ("explain", "trace one sample through every equation", cmd_explain),
            ("report", "write a self-contained HTML report", cmd_report)):
        p = command(name, helptext, run)
        p.add_argument("model", help=MODEL_HELP)
        data_options(p, seed=None, split="a named data set's test split")
        p.add_argument("--sample", type=int, default=None,
                       help="which sample to trace: its index in a named data set's test "
                            "split, or in a file's rows (default: the one with the highest "
                            "loss)")
        if name == "report":
            p.add_argument("--out", default="report.html",
                           help="the HTML file to write (default: report.html)")

    lab_command = command("lab", "watch a network learn in the browser (needs glassnet[lab])",
                          cmd_lab)
    lab_command.add_argument("--data", help="a data set of the lab (xor, circles, spirals, digits, ...) "
                                    "or a CSV file (default: xor)")
    lab_command.add_argument("--label", default="-1",
                             help="the label column of a CSV file: its name or index "
                                  "(default: -1, the last)")
    lab_command.add_argument("--port", type=int, default=0, help="default: a free port")
    lab_command.add_argument("--no-browser", action="store_true",
                             help="do not open a browser")

    demo = command("demo", "run one of the demos of the seed documents", cmd_demo)
    demo.add_argument("name", help=f"one of {', '.join(demo_names())}")
    demo.add_argument("demo_args", nargs=argparse.REMAINDER, metavar="ARGS",
                      help="the demo's own options, e.g. --plot cubic.png")
    return parser


def _column(text):
    """--label: an index if it is a number, else a column name."""
    return int(text) if text.lstrip("-").isdigit() else text


class _QuietPipe:
    """Standard output that, once the reader has gone (``| head``), swallows the rest.

    Training then goes on and the model is still saved; the command ends quietly.
    """

    def __init__(self, stream):
        self.stream, self.closed_pipe = stream, False

    def write(self, text):
        if not self.closed_pipe:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._close()
        return len(text)

    def flush(self):
        if not self.closed_pipe:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._close()

    def _close(self):
        self.closed_pipe = True
        os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    return f"glassnet: warning: {message}\n"


def main(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    warnings.formatwarning = _one_line_warning        # this process is the command line's
    stdout, sys.stdout = sys.stdout, _QuietPipe(sys.stdout)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("glassnet: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UsageError, catalog.UnknownDataset) as exc:
        if args.debug:
            raise
        parser.print_usage(sys.stderr)
        print(f"glassnet: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, OSError, ImportError, RuntimeError, FloatingPointError) as exc:
        if args.debug:
            raise
        print(f"glassnet: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        sys.stdout = stdout


if __name__ == "__main__":
    sys.exit(main())
