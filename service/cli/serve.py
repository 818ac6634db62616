"""``serve``: the HTTP service (and, on the embedded database, the worker in-process)."""
from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="WSGI worker threads.")
@click.option("--demo", is_flag=True,
              help="Create demo users for every role and print their tokens (SQLite only).")
def serve(host, port, threads, demo):
    """Start the service; the shipped content is deployed on first start.

    Example: python server.py serve --demo --port 8080
    """
    import waitress

    from .. import store
    from ..app import create_app
    from ..bootstrap import deploy_shipped_content
    from ..config import Config
    config = Config.from_env()
    if demo and not config.is_sqlite:
        raise click.ClickException("--demo creates well-known users with printed tokens; it is "
                                   "refused against PostgreSQL. Use 'users add' instead.")
    app = create_app(config)
    with app.app_context():
        result = deploy_shipped_content(config)
        if result:
            for item in result["created"]:
                click.echo(f"deployed {item['kind']} {item['key']} v{item['version']}")
        if demo:
            from ..demo import ensure_demo_users
            click.echo("demo users (tokens are new at every start):")
            for name, token, groups in ensure_demo_users():
                click.echo(f"  {name:<22} {','.join(groups):<36} {token}")
    store.database.close()
    if config.run_worker and config.is_sqlite:
        try:
            from ..worker import start_in_process
        except ImportError:
            start_in_process = None
        if start_in_process:
            start_in_process(config)
    click.echo(f"Omniflow listening on http://{host}:{port}  (API docs: /api/docs)")
    waitress.serve(app, host=host, port=port, threads=threads, ident="omniflow")


COMMANDS = [serve]
