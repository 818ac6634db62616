"""``worker``: the background loop (timers, retries, outbox, signals) in its own process."""
from __future__ import annotations

import signal

import click

from ..worker import Worker
from .context import open_store


@click.command()
@click.option("--interval", type=float, default=None,
              help="Seconds to sleep when a pass found nothing to do (default from config).")
@click.option("--once", is_flag=True, help="Run one pass, print what it did and exit.")
def worker(interval, once):
    """Fire due timers, retry failed steps, deliver the outbox and consume signals.

    Run several on PostgreSQL to share the load (rows are claimed with SKIP LOCKED); on SQLite
    `serve` already runs one in-process.

    Example: DATABASE_URL=postgresql://omniflow@db/omniflow python server.py worker
    """
    config = open_store()
    runner = Worker(config)
    if once:
        tally = runner.run_once()
        click.echo(f"timers={tally.timers} retries={tally.retries} delivered={tally.delivered} "
                   f"delivery_failures={tally.delivery_failures} signals={tally.signals}")
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: runner.stop())
    click.echo(f"worker {runner.owner} running (Ctrl-C to stop)")
    runner.run_forever(interval)


COMMANDS = [worker]
