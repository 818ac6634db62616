"""Connectors: the calls service tasks make to the systems around Omniflow, behind one registry.

A connector that changes another system (an ERP posting, a refund, a notification) never calls
it during the engine run: it writes an outbox entry with an idempotency key (instance + task),
committed in the same transaction as the state that caused it, and the worker delivers it
(``deliver``). A crash therefore neither loses a call nor sends one twice. Read-only connectors
run inline and return their result into the process data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..engine.ports import ConnectorError  # one failure type, shared with the engine
from ..errors import NotFound


@dataclass(frozen=True)
class Connector:
    name: str
    system: str
    description: str
    outbox: bool = True                     # side effect: deferred through the outbox
    inline: Callable[[dict], dict] | None = None   # read-only: computes a result now


class ConnectorRegistry:
    def __init__(self):
        self._by_name: dict[str, Connector] = {}
        self.transports: dict[str, Callable[[str, dict, str], dict]] = {}

    def register(self, connector: Connector) -> None:
        self._by_name[connector.name] = connector

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def get(self, name: str) -> Connector:
        try:
            return self._by_name[name]
        except KeyError:
            raise NotFound(f"no connector {name!r}", connector=name) from None

    def call(self, name: str, params: dict, *, idempotency_key: str, outbox: list) -> dict:
        connector = self.get(name)
        if connector.outbox:
            outbox.append({"connector": name, "system": connector.system, "params": params,
                           "idempotency_key": idempotency_key})
            return {"status": "queued", "idempotency_key": idempotency_key}
        return connector.inline(params)

    def deliver(self, name: str, params: dict, idempotency_key: str) -> dict:
        """Send one outbox entry through the system's transport (the worker calls this)."""
        connector = self.get(name)
        transport = self.transports.get(connector.system, _recording_transport)
        return transport(name, params, idempotency_key)


def _recording_transport(name: str, params: dict, idempotency_key: str) -> dict:
    """The shipped default: the delivery is recorded on the job and in the audit trail.

    A deployment points ``registry.transports[system]`` at its ERP/OMS/notification API client.
    """
    return {"delivered": True, "connector": name, "idempotency_key": idempotency_key}


registry = ConnectorRegistry()

for _name, _system, _desc in [
    ("erp.post_refund", "erp", "Post a customer refund to the ERP"),
    ("erp.post_adjustment", "erp", "Post an inventory adjustment to the ERP"),
    ("erp.post_price_override", "erp", "Post an approved price override to the ERP"),
    ("erp.post_write_off", "erp", "Post a write-off to the ERP"),
    ("oms.reship", "oms", "Ask the OMS to reship an order"),
    ("oms.substitute", "oms", "Ask the OMS to substitute an item"),
    ("oms.cancel_order", "oms", "Ask the OMS to cancel an order"),
    ("ecommerce.update_atp", "ecommerce", "Publish corrected available-to-promise"),
    ("wms.restock", "wms", "Restock a returned item"),
    ("supplier.send_message", "supplier", "Send a message to a supplier through the portal"),
    ("notify.customer", "notify", "Notify a customer"),
    ("notify.team", "notify", "Notify an internal team"),
    ("message.send", "messages", "A BPMN message a process throws to another system"),
]:
    registry.register(Connector(_name, _system, _desc))

__all__ = ["Connector", "ConnectorError", "ConnectorRegistry", "registry"]
