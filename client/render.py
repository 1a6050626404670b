"""Tables for the terminal (rich): what the CLI and the demo print."""

from __future__ import annotations

import sys

from rich import box
from rich.console import Console
from rich.table import Table

from client.contract import ExperimentSummary, HullTable


def _console() -> Console:
    """The terminal's width on a terminal; 120 columns when piped (rich would assume 80)."""
    return Console() if sys.stdout.isatty() else Console(width=120)


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _p(value: float | None, std: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" + ("" if std is None else f"±{std:.2f}")


def print_hulls(table: HullTable, *, title: str = "hulls", console: Console | None = None) -> None:
    """One line per hull: P_conv and P_rand with std(I), the endpoints' mean training loss and
    the mean endpoint-endpoint and sample-endpoint distances."""
    out = Table(title=title, box=box.SIMPLE_HEAD)
    for column in (
        "trunk",
        "epoch",
        "step",
        "status",
        "P_conv",
        "P_rand",
        "J",
        "L_end",
        "d_end",
        "d_conv",
    ):
        out.add_column(column, justify="right", no_wrap=True)
    for row in table.rows:
        out.add_row(
            str(row.trunk),
            f"{row.split_epoch:g}",
            str(row.split_step),
            row.status,
            _p(row.p_conv, row.p_conv_std),
            _p(row.p_rand, row.p_rand_std),
            str(row.n_samples),
            _num(row.mean_endpoint_loss),
            _num(row.mean_endpoint_distance, 2),
            _num(row.mean_sample_distance, 2),
        )
    (console or _console()).print(out)


def print_experiments(rows: list[ExperimentSummary], *, console: Console | None = None) -> None:
    out = Table(title="experiments", box=box.SIMPLE_HEAD)
    for column in ("id", "name", "task", "status", "jobs done", "created"):
        out.add_column(column)
    for e in rows:
        total = sum(e.progress.values())
        out.add_row(
            str(e.id),
            e.name,
            e.task,
            e.status,
            f"{e.progress.get('done', 0)}/{total}",
            e.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    (console or _console()).print(out)
