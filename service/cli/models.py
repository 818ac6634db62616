"""``train`` and ``models list|show|activate|shadow|drift``: the risk models from the shell.

Thin wrappers over :mod:`scoring.training` and :mod:`scoring.registry`, the same functions the
``/api/v1/models`` endpoints use.
"""
from __future__ import annotations

import json
import sys

import click

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
    from scoring import registry
    from scoring.artifacts import ArtifactStore
    from scoring.catalog import spec
    from scoring.dataset import read_csv
    from scoring.synthetic import generate
    from scoring.training import train as fit
    from ..errors import OmniflowError
    config = open_store()
    try:
        # Register what is already on disk first, so the new version joins as a candidate
        # rather than being taken for a shipped default at the next start.
        registry.sync_shipped(config.models_dir)
        model_spec = spec(model)
        data = (read_csv(data_path, model, model_spec.schema) if data_path
                else generate(model, rows, seed))
        click.echo(f"training {model} on {len(data)} rows ({data.source}), "
                   f"split by time 70/15/15, early stopping on validation log loss")
        trained = fit(model_spec, data, progress=_progress())
        click.echo(f"\nstopped early: best round {trained.best_iteration + 1}")
        meta = ArtifactStore(config.models_dir).save(trained)
        info = registry.register(meta)
        _print_report(meta, model_spec.floor.failures(meta.metrics))
        click.echo(f"  written to {config.models_dir}/{model}/{meta.version}/ as {info.status}")
        if activate:
            registry.activate(model, meta.version, actor=actor, reason="train --activate")
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
    from scoring import registry
    from scoring.catalog import SPECS
    config = open_store()
    registry.sync_shipped(config.models_dir)
    click.echo(f"{'model':<24} {'ver':>3}  {'status':<9} {'valid':<5} {'roc_auc':>7} "
               f"{'pr_auc':>6} {'brier':>6}  created")
    for name in sorted(SPECS):
        for v in registry.versions(name):
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
    from scoring import registry
    from scoring.artifacts import ArtifactStore
    from scoring.catalog import spec
    from ..errors import OmniflowError
    config = open_store()
    try:
        registry.sync_shipped(config.models_dir)
        if version is None:
            version = registry.describe(model, config.models_dir)["active_version"]
            if version is None:
                raise click.ClickException(f"{model} has no active version")
        info = registry.version(model, version)
        meta = ArtifactStore(config.models_dir).meta(model, version)
    except OmniflowError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps({**meta.to_json(), "status": info.status}, indent=1))
        return
    click.echo(f"status {info.status}, validated {info.validated}, created {meta.created_at}, "
               f"source {meta.data_source}")
    _print_report(meta, spec(model).floor.failures(meta.metrics))
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
    from scoring import registry
    from ..errors import OmniflowError
    config = open_store()
    try:
        registry.sync_shipped(config.models_dir)
        info = registry.activate(model, version, actor=actor, reason=reason)
    except OmniflowError as exc:
        _fail(exc)
    click.echo(f"{model} version {info.version} is active")


@models.command("shadow")
@click.argument("model")
@click.argument("version")
@click.option("--as", "actor", default="cli", show_default=True)
def shadow(model, version, actor):
    """Score VERSION beside the active one without effect on routing (``none`` stops it).

    Example: python server.py models shadow escalation_risk 3
    """
    from scoring import registry
    from ..errors import OmniflowError
    config = open_store()
    try:
        registry.sync_shipped(config.models_dir)
        number = None if version.lower() == "none" else int(version)
        registry.set_shadow(model, number, actor=actor)
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
    from scoring import monitoring
    from ..errors import OmniflowError
    config = open_store()
    try:
        report = monitoring.check(model, config.models_dir, window=window)
    except OmniflowError as exc:
        _fail(exc)
    click.echo(json.dumps(report.to_json(), indent=1))


COMMANDS = [train, models]
