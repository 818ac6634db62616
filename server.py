"""Omniflow entry point: ``python server.py [serve|worker|deploy|users|train|models|migrate]``."""
from service.cli import cli

if __name__ == "__main__":
    cli()
