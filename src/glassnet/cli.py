"""The ``glassnet`` command: train, evaluate, predict, summary, demo.

Errors are one line on stderr and a non-zero exit status (2 for usage
errors); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import time
from pathlib import Path

import numpy as np

from . import Rescaling, activations, datasets, load_model, optimizers
from ._text import format_logs, format_table
from .datasets import catalog
from .datasets.preprocessing import validation_split
from .export import OPSET
from .model import build_mlp
from .plotting import confusion_matrix, plot_confusion_matrix, plot_history
from .report import write_report

EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def _layers(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 128,64; "
                                         f"received {text!r}") from None
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


def cmd_train(args):
    data = catalog.load(args.data, seed=args.seed)
    epochs = args.epochs if args.epochs is not None else data.epochs
    layers = args.layers if args.layers is not None else data.hidden
    lr = args.lr if args.lr is not None else data.learning_rate
    if args.validation is None:
        args.validation = 0.1 if len(data.x_train) >= 50 else 0.0
    model = build_mlp(data.n_outputs, data.task, layers, args.activation, args.optimizer, lr,
                      front=[Rescaling(data.scale)] if data.scale != 1.0 else [],
                      seed=args.seed)
    print(f"Training on {args.data}: {len(data.x_train)} samples, {data.x_train.shape[1]} "
          f"features -> {data.n_outputs} outputs; layers {layers}, {args.activation}, "
          f"{args.optimizer}, {epochs} epochs", flush=True)
    parts = {"train": (data.x_train, data.y_train)}
    if args.validation:
        # a seeded random sample (stratified by class): sorted data still validates on all
        labels = data.y_train if data.task == "multiclass" else None
        train, val = validation_split([data.x_train, data.y_train], args.validation,
                                      rng=np.random.default_rng(args.seed), stratify=labels)
        parts = {"train": tuple(train), "validation": tuple(val)}
    parts["test"] = (data.x_test, data.y_test)
    start = time.perf_counter()
    history = model.fit(*parts["train"], epochs=epochs, batch_size=args.batch_size,
                        validation_data=parts.get("validation"),
                        verbose=0 if args.quiet else 1)
    elapsed = time.perf_counter() - start
    metric = "accuracy" if data.task != "regression" else "mae"
    rows = [("split", "loss", metric)]
    for name, (x, y) in parts.items():
        res = model.evaluate(x, y)
        rows.append((name, f"{res['loss']:.4f}", f"{res[metric]:.4f}"))
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


def _check_model_fits(model, data):
    if model.input_dim != data.x_test.shape[1]:
        raise ValueError(f"the model expects {model.input_dim} features but the data has "
                         f"{data.x_test.shape[1]}")


def cmd_evaluate(args):
    model = load_model(args.model)
    data = catalog.load(args.data, seed=args.seed, for_training=False)
    _check_model_fits(model, data)
    if model.loss is None:
        raise ValueError(f"{args.model!r} was saved without compile settings; cannot evaluate")
    result = model.evaluate(data.x_test, data.y_test)
    print(format_logs(result))
    if data.task == "multiclass":
        predicted = model.predict(data.x_test).argmax(axis=1)
        matrix = confusion_matrix(data.y_test, predicted, model.output_dim)
        labels = list(data.labels) or [str(i) for i in range(model.output_dim)]
        print("\nconfusion matrix (rows: true class, columns: predicted)")
        _print_table([[""] + labels] + [[labels[i]] + list(map(str, row))
                                        for i, row in enumerate(matrix)])
        if args.plot:
            plot_confusion_matrix(matrix, labels, path=args.plot)
            print(f"confusion matrix saved to {args.plot}")
    return 0


def cmd_predict(args):
    model = load_model(args.model)
    x = datasets.load_csv(args.input, label_column=None)
    if x.shape[1] != model.input_dim:
        raise ValueError(f"{args.input!r} has {x.shape[1]} columns but the model expects "
                         f"{model.input_dim} features (give features only, no label column)")
    out = model.predict(x)
    last = model.layers[-1]
    classify = getattr(last, "activation", None) is not None and \
        last.activation.name in ("softmax", "sigmoid")
    if classify and out.shape[1] > 1:
        header = "class," + ",".join(f"p{i}" for i in range(out.shape[1]))
        table = np.column_stack([out.argmax(axis=1), out])
        fmt = ["%d"] + ["%.6g"] * out.shape[1]
    else:
        header = ",".join(f"y{i}" for i in range(out.shape[1]))
        table, fmt = out, "%.6g"
    target = args.out or sys.stdout
    np.savetxt(target, table, delimiter=",", header=header, comments="", fmt=fmt)
    if args.out:
        print(f"{len(out)} predictions written to {args.out}")
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
    data = catalog.load(args.data, seed=args.seed, for_training=False)
    _check_model_fits(model, data)
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


def examples_dir():
    return Path(__file__).resolve().parents[2] / "examples"


DEMOS = {"xor": "xor.py", "predefined": "image2x2_predefined.py",
         "image2x2": "image2x2_recognition.py", "network": "configurable_network.py",
         "linear": "linear.py", "cubic": "cubic.py", "mnist": "mnist.py",
         "xor-regions": "xor_regions.py", "cubic-convergence": "cubic_convergence.py",
         "grid-search": "sklearn_grid_search.py"}


def cmd_demo(args):
    folder = examples_dir()
    script = folder / DEMOS[args.name]
    if not script.is_file():
        raise FileNotFoundError(f"the demos ship with glassnet's source checkout; {script} was "
                                f"not found (install with 'pip install -e .' from a clone)")
    sys.argv = [str(script), *args.demo_args]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def make_parser():
    parser = argparse.ArgumentParser(prog="glassnet", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a network (default: the embedded digits)")
    train.add_argument("--data", default="digits",
                       help=f"{', '.join(catalog.names())}, a CSV file (label first) or an IDX "
                            f"directory (default: digits)")
    train.add_argument("--layers", type=_layers, help="hidden layer sizes, e.g. 128,64")
    train.add_argument("--activation", default="relu", choices=activations.names(),
                       help="hidden-layer activation (default: relu)")
    train.add_argument("--optimizer", default="adam", choices=optimizers.names())
    train.add_argument("--lr", type=_positive(float), help="learning rate")
    train.add_argument("--epochs", type=_positive(int))
    train.add_argument("--batch-size", type=_positive(int), default=32)
    train.add_argument("--validation", type=_fraction,
                       help="fraction of the training data held out (default: 0.1, or 0 for "
                            "data sets under 50 samples such as xor)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default="model.glassnet", help="model file to write")
    train.add_argument("--plot", help="save the training curves to this PNG")
    train.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    train.set_defaults(run=cmd_train)

    evaluate = sub.add_parser("evaluate", help="loss, accuracy and confusion matrix")
    evaluate.add_argument("model")
    evaluate.add_argument("--data", default="digits")
    evaluate.add_argument("--seed", type=int, default=0,
                          help="must match training for the digits' test split")
    evaluate.add_argument("--plot", help="save the confusion matrix to this PNG")
    evaluate.set_defaults(run=cmd_evaluate)

    predict = sub.add_parser("predict", help="predictions for a CSV of features")
    predict.add_argument("model")
    predict.add_argument("input")
    predict.add_argument("--out", help="CSV file to write (default: standard output)")
    predict.set_defaults(run=cmd_predict)

    summary = sub.add_parser("summary", help="print a saved model's layers")
    summary.add_argument("model")
    summary.set_defaults(run=cmd_summary)

    export = sub.add_parser("export", help="export a saved model to ONNX")
    export.add_argument("model")
    export.add_argument("output", help="the .onnx file to write")
    export.set_defaults(run=cmd_export)

    for name, helptext, run in (("explain", "trace one sample through every equation", cmd_explain),
                                ("report", "write a self-contained HTML report", cmd_report)):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("model")
        p.add_argument("--data", default="digits")
        p.add_argument("--sample", type=int, default=0, help="which test sample to trace")
        p.add_argument("--seed", type=int, default=0,
                       help="must match training for the digits' test split")
        if name == "report":
            p.add_argument("--out", default="report.html")
        p.set_defaults(run=run)

    demo = sub.add_parser("demo", help="run one of the seed documents' demos")
    demo.add_argument("name", choices=sorted(DEMOS))
    demo.add_argument("demo_args", nargs=argparse.REMAINDER)
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("glassnet: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:                  # e.g. `glassnet evaluate ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except (ValueError, OSError, ImportError, RuntimeError, FloatingPointError) as exc:
        if args.debug:
            raise
        print(f"glassnet: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
