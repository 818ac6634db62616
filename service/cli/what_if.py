"""``what-if KEY FILE``: replay past decisions of KEY against a candidate DMN file, from the shell.

The same use case as ``POST /api/v1/decisions/{key}/what-if``, with a progress bar for long
replays; nothing is written.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..usecases import what_if as usecase
from .context import open_store, problems_as_errors, progress_bar


@click.command("what-if")
@click.argument("key")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False))
@click.option("--since", help="ISO 8601: records from this time.")
@click.option("--until", help="ISO 8601: records before this time.")
@click.option("--case-type", help="Only records of cases of this type.")
@click.option("--limit", type=int, help="The newest N records (default 100000).")
@click.option("--decision", help="The decision of the file (default: its first).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole answer as JSON.")
def what_if(key, files, since, until, case_type, limit, decision, as_json):
    """Replay past decisions of KEY against the candidate DMN FILE(S), changing nothing.

    Example: python server.py what-if exception_routing my/exception_routing.dmn --limit 50000
    """
    config = open_store()
    sources = {Path(f).name: Path(f).read_bytes() for f in files}
    with problems_as_errors(), progress_bar("replaying") as (on_total, progress):
        answer = usecase.decision(usecase.OPERATOR, key, sources, config=config,
                                  decision_id=decision, since=since, until=until,
                                  case_type=case_type, limit=limit, on_total=on_total,
                                  progress=progress)
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    click.echo(f"{answer['changed']} of {answer['replayed']} past decisions of "
               f"{answer['decision']} would change ({answer['changed_share']:.1%}); "
               f"{answer['failed']} could not be evaluated; deployed v"
               f"{answer['deployed']['version']}; {answer['per_second'] or 0} decisions/s")
    for t in answer["transitions"][:20]:
        click.echo(f"  {t['output']}: {t['from']!r} -> {t['to']!r}  {t['count']}"
                   f"  cases {t['case_ids']}")
    for what, rules in (("starts", answer["rules"]["started_matching"]),
                        ("stops", answer["rules"]["stopped_matching"])):
        for r in rules[:20]:
            click.echo(f"  rule {r['rule_id']} (row {r['row']}) {what} matching: {r['count']}")
    for w in answer["warnings"][:10]:
        click.echo(f"  warning: {w['message']} ({w['count']})")


COMMANDS = [what_if]
