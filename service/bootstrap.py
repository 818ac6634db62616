"""First start: deploy the shipped retail content into an empty database."""
from __future__ import annotations

import logging

from .config import Config
from .deployments import content_files, deploy
from .store import Definition

log = logging.getLogger(__name__)


def deploy_shipped_content(config: Config) -> dict | None:
    """Deploy bpmn/, dmn/ and rules/ if nothing is deployed yet.

    Only on first start: after that, analysts' own deploys are the truth, and redeploying the
    shipped files at every start would silently revert their changes.
    """
    if Definition.select().exists():
        return None
    files = content_files(config.content_dirs)
    if not files:
        return None
    result = deploy(files, actor="bootstrap", max_bytes=config.max_definition_bytes)
    log.info("deployed shipped content", extra={"definitions": len(result["created"])})
    return result
