"""The four shipped retail models: what each predicts, its features and its quality floor.

This is the one place a reader looks to learn what a model means. Each :class:`ModelSpec` names
the outcome (the label), declares the feature schema the booster is trained and served on, and
the :class:`Floor` its test metrics must reach before a version may be activated.

Floors are set a few points under what the synthetic generator lets a good model reach, so a
regression in features, generator or training fails activation instead of shipping quietly. The
generator's oracle (the label's probability given features and hidden state, see
:mod:`scoring.synthetic`) bounds the test ROC AUC; on the shipped models' test split (40,000
rows, seed 2024) it is: escalation 0.707 (model 0.701), phantom inventory 0.897 (0.896), promo
stockout 0.898 (0.882), return abuse 0.789 (0.788). Escalation is hard by design: whether a
customer complains depends mostly on things no system records. ``tests/scoring/test_training``
checks trained models against the oracle on fresh data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from service.errors import NotFound

from .schema import BOOLEAN, CATEGORY, INTEGER, NUMBER, Feature, FeatureSchema

TIERS = ("bronze", "silver", "gold", "platinum")
REGIONS = ("north", "south", "east", "west", "central")


@dataclass(frozen=True)
class Floor:
    """Minimum test-split quality for activation (``None`` = not checked)."""

    roc_auc: float
    pr_auc: float | None = None
    brier: float | None = None          # a ceiling: lower is better
    ece: float | None = None            # expected calibration error, a ceiling

    def failures(self, metrics: Mapping | None) -> list[str]:
        """List why ``metrics`` do not pass; empty means the version is validated."""
        if not metrics:
            return ["no test metrics recorded"]
        out = []
        for key, bound, higher in (("roc_auc", self.roc_auc, True), ("pr_auc", self.pr_auc, True),
                                   ("brier", self.brier, False), ("ece", self.ece, False)):
            if bound is None:
                continue
            value = metrics.get(key)
            if value is None:
                out.append(f"{key} not recorded")
            elif (value < bound) if higher else (value > bound):
                out.append(f"{key} {value:.4f} {'<' if higher else '>'} floor {bound}")
        return out

    def to_json(self) -> dict:
        return {"roc_auc": self.roc_auc, "pr_auc": self.pr_auc, "brier": self.brier,
                "ece": self.ece}


# Defaults chosen for small artifacts (< 300 KB) and sub-millisecond scoring: shallow trees,
# early stopping on validation log loss (which also keeps probabilities calibrated).
DEFAULT_PARAMS = {
    "objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist",
    "max_depth": 4, "eta": 0.08, "subsample": 0.8, "colsample_bytree": 0.9,
    "min_child_weight": 20, "gamma": 1.0, "lambda": 1.0, "nthread": 1, "seed": 7,
}
DEFAULT_ROUNDS = 400
EARLY_STOPPING_ROUNDS = 30


@dataclass(frozen=True)
class ModelSpec:
    name: str
    outcome: str
    schema: FeatureSchema
    floor: Floor
    params: dict = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    rounds: int = DEFAULT_ROUNDS


def _f(name, type_, unit="", lo=None, hi=None, levels=(), doc=""):
    return Feature(name=name, type=type_, unit=unit, min=lo, max=hi, levels=tuple(levels),
                   description=doc)


ESCALATION = ModelSpec(
    name="escalation_risk",
    outcome="the order exception becomes a complaint or a cancellation",
    schema=FeatureSchema((
        _f("reason", CATEGORY, levels=("payment_failed", "address_invalid", "short_pick",
                                       "late_shipment", "damaged", "customer_complaint"),
           doc="order.exception reason"),
        _f("channel", CATEGORY, levels=("web", "app", "store", "phone"), doc="sales channel"),
        _f("order_value", NUMBER, "currency", 0, 50_000, doc="order value"),
        _f("margin", NUMBER, "fraction", -1, 1, doc="order margin as a fraction of value"),
        _f("customer_tier", CATEGORY, levels=TIERS, doc="CRM loyalty tier"),
        _f("days_late", NUMBER, "days", 0, 120, doc="days past the delivery promise"),
        _f("prior_contacts_90d", INTEGER, "contacts", 0, 200, doc="CRM contacts in 90 days"),
        _f("prior_exceptions_90d", INTEGER, "orders", 0, 200,
           doc="this customer's order exceptions in 90 days"),
        _f("order_weekday", INTEGER, "0=Mon", 0, 6, doc="weekday the order was placed"),
    )),
    floor=Floor(roc_auc=0.68, pr_auc=0.45, brier=0.20, ece=0.05),
)

PHANTOM = ModelSpec(
    name="phantom_inventory_risk",
    outcome="the system shows stock the shelf does not have",
    schema=FeatureSchema((
        _f("location_type", CATEGORY, levels=("store", "dc", "ship_from_store")),
        _f("on_hand", INTEGER, "units", 0, 100_000, doc="ERP on-hand"),
        _f("atp_gap", NUMBER, "units", -100_000, 100_000,
           doc="ERP on-hand minus ecommerce available-to-promise"),
        _f("weekly_sales", NUMBER, "units/week", 0, 100_000, doc="mean POS sales, last 8 weeks"),
        _f("zero_sales_days", INTEGER, "days", 0, 14,
           doc="days without a sale in the last 14 while stock was shown"),
        _f("no_stock_cancels_7d", INTEGER, "orders", 0, 1_000,
           doc="order.cancelled with cause no_stock, last 7 days"),
        _f("days_since_count", INTEGER, "days", 0, 3_650, doc="days since the last cycle count"),
        _f("shrink_rate", NUMBER, "fraction", 0, 1, doc="location's trailing shrink rate"),
        _f("unit_cost", NUMBER, "currency", 0, 100_000),
        _f("store_age_years", NUMBER, "years", 0, 100, doc="age of the location"),
    )),
    floor=Floor(roc_auc=0.84, pr_auc=0.65, brier=0.05, ece=0.04),
)

PROMO = ModelSpec(
    name="promo_stockout_risk",
    outcome="the promotion runs out of stock in its first week",
    schema=FeatureSchema((
        _f("region", CATEGORY, levels=REGIONS),
        _f("discount_pct", NUMBER, "percent", 0, 90),
        _f("expected_uplift", NUMBER, "x baseline", 1, 20, doc="planner's demand multiplier"),
        _f("baseline_weekly_units", NUMBER, "units/week", 0, 1_000_000),
        _f("on_hand_units", INTEGER, "units", 0, 10_000_000),
        _f("inbound_units", INTEGER, "units", 0, 10_000_000, doc="open PO quantity"),
        _f("supplier_lead_time_days", NUMBER, "days", 0, 365, doc="supplier's mean lead time"),
        _f("lead_time_std_days", NUMBER, "days", 0, 120, doc="its standard deviation"),
        _f("supplier_fill_rate", NUMBER, "fraction", 0, 1, doc="trailing PO fill rate"),
        _f("days_to_launch", INTEGER, "days", 0, 365),
        _f("launch_week", INTEGER, "ISO week", 1, 53),
        _f("sku_age_days", INTEGER, "days", 0, 20_000, doc="days since the sku was listed"),
    )),
    floor=Floor(roc_auc=0.85, pr_auc=0.80, brier=0.16, ece=0.05),
    # Demand is a ratio of several inputs: deeper trees and a faster rate keep the artifact
    # under 300 KB at the same test AUC.
    params={**DEFAULT_PARAMS, "max_depth": 5, "eta": 0.15},
)

RETURNS = ModelSpec(
    name="return_abuse_risk",
    outcome="the return is abusive or fraudulent",
    schema=FeatureSchema((
        _f("value", NUMBER, "currency", 0, 50_000),
        _f("channel", CATEGORY, levels=("store", "mail", "courier")),
        _f("reason", CATEGORY, levels=("wrong_size", "defective", "not_as_described",
                                       "changed_mind", "arrived_late", "damaged_in_transit")),
        _f("condition", CATEGORY, levels=("new", "opened", "used", "damaged", "missing_parts")),
        _f("days_since_purchase", INTEGER, "days", 0, 365),
        _f("customer_return_rate", NUMBER, "fraction", 0, 1,
           doc="share of the customer's orders returned, trailing year"),
        _f("returns_last_90d", INTEGER, "returns", 0, 500),
        _f("receipt_present", BOOLEAN),
        _f("customer_tier", CATEGORY, levels=TIERS),
        _f("return_weekday", INTEGER, "0=Mon", 0, 6),
    )),
    floor=Floor(roc_auc=0.74, pr_auc=0.35, brier=0.07, ece=0.04),
)

SPECS: dict[str, ModelSpec] = {s.name: s for s in (ESCALATION, PHANTOM, PROMO, RETURNS)}


def spec(name: str) -> ModelSpec:
    """Look a model up by name; unknown names are a 404 at the API."""
    try:
        return SPECS[name]
    except KeyError:
        raise NotFound(f"unknown model '{name}'", model=name) from None
