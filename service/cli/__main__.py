"""``python -m service.cli``: the same CLI as ``server.py`` and the ``omniflow`` command."""
from . import cli

cli()
