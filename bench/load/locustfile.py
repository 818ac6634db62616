"""Mixed traffic for Locust: intake 60 %, inbox reads 25 %, completions 10 %, signals 5 %.

Run by ``bench/load.py`` (which starts the service, the workers and Locust headless); the tokens
come from the environment it sets. Completions take an open customer-service task from the
agent's inbox and complete it; a 409 (someone else took the task first) is retried by the next
iteration and counted under its own name, as a real client would.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import uuid

from locust import HttpUser, between, task

REASONS = ["payment_failed", "address_invalid", "short_pick", "late_shipment", "damaged",
           "customer_complaint"]
TIERS = ["bronze", "silver", "gold", "platinum"]
CHANNELS = ["web", "app", "store", "phone"]
VALUES = [18.5, 64, 140, 420, 900, 2400, 7800]
RISK = [(0, 0, 0), (2, 1, 3), (6, 4, 2)]
COMBOS = list(itertools.product(REASONS, TIERS, CHANNELS, VALUES, RISK))

OMS = os.environ["LOAD_OMS_TOKEN"]
AGENT = os.environ["LOAD_AGENT_TOKEN"]
READERS = os.environ["LOAD_READER_TOKENS"].split(",")
POS = os.environ["LOAD_POS_TOKEN"]


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


class RetailTraffic(HttpUser):
    wait_time = between(0.0, 0.05)

    def on_start(self):
        self.rnd = random.Random(uuid.uuid4().int)

    @task(60)
    def intake(self):
        reason, tier, channel, value, (late, contacts, prior) = self.rnd.choice(COMBOS)
        n = uuid.uuid4().hex[:12]
        body = {"type": "order_exception", "external_ref": f"load-{n}",
                "data": {"order_id": n, "reason": reason, "channel": channel, "value": value,
                         "margin": round(self.rnd.uniform(0.05, 0.4), 2), "customer_tier": tier,
                         "days_late": late, "prior_contacts_90d": contacts,
                         "prior_exceptions_90d": prior, "order_weekday": self.rnd.randrange(7)}}
        headers = {**_auth(OMS), "Idempotency-Key": f"load-{n}"}
        self.client.post("/api/v1/cases", data=json.dumps(body), headers=headers,
                         name="intake")

    @task(25)
    def inbox(self):
        self.client.get("/api/v1/tasks?limit=50", headers=_auth(self.rnd.choice(READERS)),
                        name="inbox")

    @task(10)
    def complete(self):
        with self.client.get("/api/v1/tasks?limit=50", headers=_auth(AGENT), name="inbox (agent)",
                             catch_response=True) as answer:
            items = answer.json().get("items", []) if answer.status_code == 200 else []
            answer.success() if answer.status_code == 200 else answer.failure(answer.text)
        mine = [t for t in items if "customer_service" in t.get("candidate_groups", [])]
        if not mine:
            return
        chosen = self.rnd.choice(mine)
        form = {"resolution": self.rnd.choice(("reship", "substitute", "no_action", "refund"))}
        if form["resolution"] == "refund":
            form["refund_amount"] = 10          # below every order value of the mix
        with self.client.post(f"/api/v1/tasks/{chosen['id']}/complete",
                              data=json.dumps({"data": form}), headers=_auth(AGENT),
                              name="complete", catch_response=True) as answer:
            if answer.status_code == 409:
                answer.success()                  # taken first by another client: retry later
                self.environment.events.request.fire(
                    request_type="POST", name="complete (409, retried)", response_time=0,
                    response_length=0, exception=None, context={})

    @task(5)
    def signals(self):
        batch = []
        at = dt.datetime.now(dt.timezone.utc).isoformat()
        for _ in range(10):
            sku, loc = f"SKU{self.rnd.randrange(8)}-{self.rnd.randrange(125)}", f"L{self.rnd.randrange(10)}"
            batch.append({"id": uuid.uuid4().hex, "type": "inventory.snapshot", "at": at,
                          "data": {"sku": sku, "location": loc, "region": "r1",
                                   "source": self.rnd.choice(("erp", "ecommerce")),
                                   "on_hand": self.rnd.randrange(20, 170),
                                   "available_to_promise": self.rnd.randrange(20, 170)}})
        self.client.post("/api/v1/signals", data=json.dumps(batch), headers=_auth(POS),
                         name="signals (10)")
