"""``train`` and ``models list|show|activate|shadow|drift``: the risk models from the shell.

Thin wrappers over :mod:`service.usecases.models`, which the ``/api/v1/models`` endpoints use.
"""
from __future__ import annotations

import json
import sys

import os

import click

from ..errors import OmniflowError
from ..usecases import models as usecase
from .context import open_store


def _fail(exc):
    raise click.ClickException(exc.detail) from exc


def _print_report(meta, failures) -> None:
    m = meta.metrics
    click.echo(f"\n{meta.name} version {meta.version}  (data {meta.data_sha256[:12]}, "
               f"{meta.splits['test']['rows']} test rows from {meta.splits['test']['from']})")
    click.echo(f"  ROC AUC {m['roc_auc']:.4f}   PR AUC {m['pr_auc']:.4f}   "
               f"Brier {m['brier']:.4f}   ECE {m['ece']:.4f}   "
               f"positive rate {m['positive_rate']:.3f}")
    click.echo("  calibration by decile:  decile  rows  mean predicted  observed")
    for b in m["calibration"]:
        click.echo(f"  {b['decile']:>30}  {b['count']:>4}  {b['mean_probability']:>14.3f}  "
                   f"{b['observed_rate']:>8.3f}")
    click.echo("  top features (mean |contribution|, share):")
    for f in m["top_features"][:8]:
        click.echo(f"    {f['feature']:<26} {f['mean_abs_contribution']:.4f}  {f['share']:.1%}")
    click.echo("  floor: " + ("passed (validated)" if not failures
                              else "FAILED: " + "; ".join(failures)))


def _progress():
    """Show boosting rounds: one rewritten line on a terminal, a line per 25 rounds in a log."""
    tty = sys.stdout.isatty()

    def show(p):
        line = (f"round {p.round:>4}/{p.rounds}  train logloss {p.train_logloss:.4f}  "
                f"validation logloss {p.validation_logloss:.4f}  best round {p.best_round}")
        if tty:
            click.echo("\r" + line, nl=False)
        elif p.round == 1 or p.round % 25 == 0:
            click.echo(line)
    return show


@click.command()
@click.argument("model")
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False),
              help="A CSV with columns at, every feature and label (default: generated data).")
@click.option("--rows", default=40_000, show_default=True, help="Rows to generate (no --data).")
@click.option("--seed", default=2024, show_default=True, help="Generator seed (no --data).")
@click.option("--activate", is_flag=True, help="Activate the new version if it is validated.")
@click.option("--as", "actor", default="cli", show_default=True, help="Who trains.")
def train(model, data_path, rows, seed, activate, actor):
    """Train a new version of MODEL, record its test metrics and register it as a candidate.

    \b
    Examples:
      python server.py train escalation_risk --rows 20000
      python server.py train return_abuse_risk --data returns_2024.csv --activate
    """
    config = open_store()

    def announce(data):
        click.echo(f"training {model} on {len(data)} rows ({data.source}), "
                   f"split by time 70/15/15, early stopping on validation log loss")

    try:
        trained, meta, info, failures = usecase.train(
            model, models_dir=config.models_dir, data_path=data_path, rows=rows, seed=seed,
            progress=_progress(), on_data=announce)
        click.echo(f"\nstopped early: best round {trained.best_iteration + 1}")
        _print_report(meta, failures)
        written = config.models_dir.split(os.pathsep)[0]
        click.echo(f"  written to {written}/{model}/{meta.version}/ as {info.status}")
        if activate:
            usecase.activate(actor, model, meta.version, reason="train --activate",
                             models_dir=config.models_dir)
            click.echo(f"  activated version {meta.version}")
    except OmniflowError as exc:
        _fail(exc)


@click.group()
def models():
    """List, inspect, activate and shadow model versions; check drift."""


@models.command("list")
def list_models():
    """List every registered version with its status and test metrics.

    Example: python server.py models list
    """
    config = open_store()
    usecase.sync_shipped(config.models_dir)
    click.echo(f"{'model':<24} {'ver':>3}  {'status':<9} {'valid':<5} {'roc_auc':>7} "
               f"{'pr_auc':>6} {'brier':>6}  created")
    for item in usecase.listing(config.models_dir)["items"]:
        name = item["name"]
        for v in usecase.versions(name):
            m = {k: v.metrics.get(k, float("nan")) for k in ("roc_auc", "pr_auc", "brier")}
            click.echo(f"{name:<24} {v.version:>3}  {v.status:<9} {str(v.validated):<5} "
                       f"{m['roc_auc']:>7.4f} {m['pr_auc']:>6.3f} {m['brier']:>6.4f}  "
                       f"{v.created_at}")


@models.command("show")
@click.argument("model")
@click.argument("version", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the full document as JSON.")
def show(model, version, as_json):
    """Show a model (its active version) or one VERSION: metrics, calibration, features.

    Example: python server.py models show escalation_risk 1
    """
    config = open_store()
    try:
        usecase.sync_shipped(config.models_dir)
        if version is None:
            version = usecase.show(model, config.models_dir)["active_version"]
            if version is None:
                raise click.ClickException(f"{model} has no active version")
        info, meta = usecase.version_meta(model, version, config.models_dir)
    except OmniflowError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps({**meta.to_json(), "status": info.status}, indent=1))
        return
    click.echo(f"status {info.status}, validated {info.validated}, created {meta.created_at}, "
               f"source {meta.data_source}")
    _print_report(meta, usecase.floor_failures(model, meta.metrics))
    click.echo("  feature schema:")
    for f in meta.feature_schema.features:
        allowed = (",".join(f.levels) if f.levels
                   else f"[{f.min}, {f.max}] {f.unit}" if f.min is not None else f.unit)
        click.echo(f"    {f.name:<26} {f.type:<9} {allowed}")


@models.command("activate")
@click.argument("model")
@click.argument("version", type=int)
@click.option("--reason", help="Why (recorded in the audit trail).")
@click.option("--as", "actor", default="cli", show_default=True)
def activate(model, version, reason, actor):
    """Make VERSION route MODEL's cases; refused unless its test metrics pass the floor.

    Example: python server.py models activate escalation_risk 2 --reason "retrained on Q3"
    """
    config = open_store()
    try:
        usecase.sync_shipped(config.models_dir)
        info = usecase.activate(actor, model, version, reason=reason,
                                models_dir=config.models_dir)
    except OmniflowError as exc:
        _fail(exc)
    click.echo(f"{model} version {info['version']} is active")


@models.command("shadow")
@click.argument("model")
@click.argument("version")
@click.option("--as", "actor", default="cli", show_default=True)
def shadow(model, version, actor):
    """Score VERSION beside the active one without effect on routing (``none`` stops it).

    Example: python server.py models shadow escalation_risk 3
    """
    config = open_store()
    try:
        usecase.sync_shipped(config.models_dir)
        number = None if version.lower() == "none" else int(version)
        usecase.set_shadow(actor, model, number, reason=None, models_dir=config.models_dir)
    except ValueError:
        raise click.BadParameter("a version number or 'none'", param_hint="VERSION") from None
    except OmniflowError as exc:
        _fail(exc)
    click.echo(f"{model} shadow version: {version}")


@models.command("drift")
@click.argument("model")
@click.option("--window", default=500, show_default=True, help="Recent scored cases to compare.")
def drift(model, window):
    """Population stability per feature and for the score; PSI > 0.2 is audited as an alert.

    Example: python server.py models drift escalation_risk
    """
    config = open_store()
    try:
        report = usecase.drift(model, config.models_dir, window=window)
    except OmniflowError as exc:
        _fail(exc)
    click.echo(json.dumps(report, indent=1))


COMMANDS = [train, models]
