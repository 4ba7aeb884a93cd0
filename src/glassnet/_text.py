"""Plain-text output shared by ``summary``, the command line and the progress lines."""

from __future__ import annotations

__all__ = ["format_table", "format_logs", "config_repr"]


def format_table(rows, rule="-", gap=2):
    """Rows of cells as aligned lines, with a rule of ``rule`` under the first (header) row."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [(" " * gap).join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, (" " * gap).join(rule * w for w in widths))
    return lines


def format_logs(logs):
    """``loss: 0.1234 - accuracy: 0.9700``: the numbers of a logs dict."""
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, float))


def config_repr(obj):
    """``ClassName(arg=value, ...)`` from ``obj.get_config()``."""
    args = ", ".join(f"{k}={v!r}" for k, v in obj.get_config().items())
    return f"{type(obj).__name__}({args})"
