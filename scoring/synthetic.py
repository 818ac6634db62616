"""Generate a seeded, reproducible retail history for each of the four models.

No public retail data set is reachable from the machines this runs on, so the shipped models are
trained on a simulated store network. Every knob of that simulation is a field of
:class:`WorldParameters` below, documented there and nowhere else; ``generate(model, rows, seed)``
returns the same rows for the same arguments on every machine (numpy's PCG64 generator).

How outcomes arise (each is a mechanism, not a formula over the label):

* ``escalation_risk``: a logistic response to the exception reason, lateness (which peaks in the
  yearly season), contact history, tier, value and channel.
* ``phantom_inventory_risk``: shrink and count errors accumulate since the last cycle count; a
  location that truly has no stock then shows zero-sales days and no-stock cancellations.
* ``promo_stockout_risk``: first-week demand (baseline x uplift from the discount x seasonality x
  noise) against on-hand plus whatever inbound arrives in time given the supplier's lead time,
  its variance and fill rate. The planner's ``expected_uplift`` is a noisy estimate.
* ``return_abuse_risk``: a minority of customers are abusers (wardrobing near the end of the
  return window, receipt-less high-value returns, serial returners); most of their returns are
  abusive, a few honest customers' returns are too.

Then a share of labels is flipped (``label_noise``), so no model can be perfect. Each model also
has one feature the generator never uses (``IRRELEVANT``): a trained model must give it almost no
weight, which the tests check. The label is never copied into a feature.

``Dataset.oracle`` is the label's probability given the features *and* the generator's hidden
state (a customer's abuser class, a location's true phantom state): an upper bound on what any
model can reach, and reached exactly by the best model for the two generators without hidden
state (``LATENT`` lists the others). Tests compare trained models with it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalog import REGIONS, SPECS, TIERS
from .dataset import Dataset

IRRELEVANT = {
    "escalation_risk": "order_weekday",
    "phantom_inventory_risk": "store_age_years",
    "promo_stockout_risk": "sku_age_days",
    "return_abuse_risk": "return_weekday",
}
LATENT = frozenset({"phantom_inventory_risk", "return_abuse_risk"})


@dataclass(frozen=True)
class WorldParameters:
    """Every parameter of the simulated retailer, in one place."""

    start: str = "2023-01-02"            # first day of history (a Monday)
    days: int = 730                      # length of history; splits are by time within it
    # Seasonality of event volume and of demand.
    weekly_profile: tuple[float, ...] = (0.9, 0.85, 0.9, 0.95, 1.1, 1.25, 1.05)   # Mon..Sun
    yearly_amplitude: float = 0.35       # demand/lateness swing around the yearly mean
    yearly_peak_day: int = 350           # day of year of the peak (mid December)
    # Customers.
    tier_shares: tuple[float, ...] = (0.55, 0.28, 0.13, 0.04)    # bronze, silver, gold, platinum
    tier_value_multiplier: tuple[float, ...] = (1.0, 1.3, 1.8, 2.6)
    # Order exceptions.
    reason_shares: tuple[float, ...] = (0.12, 0.08, 0.2, 0.35, 0.12, 0.13)
    late_days_mean: float = 2.5          # mean lateness of a late shipment, off season
    # Promotions: uplift = 1 + elasticity * discount% / 10, times seasonality and noise.
    promo_elasticity: float = 0.55
    promo_demand_noise: float = 0.35     # sigma of the log-normal demand noise
    planner_forecast_noise: float = 0.25  # sigma of the planner's log-error on uplift
    regional_demand: tuple[float, ...] = (0.9, 1.15, 1.0, 1.05, 0.95)   # north..central
    # Suppliers: lead time ~ N(mean, std) per supplier, means log-normal around this.
    lead_time_median_days: float = 14.0
    lead_time_cv: float = 0.35           # typical std / mean
    fill_rate_beta: tuple[float, float] = (18.0, 2.0)
    # Shrink and count errors.
    shrink_rate_beta: tuple[float, float] = (2.0, 110.0)       # mean ~1.8 %
    count_error_per_count: float = 0.03  # chance a count itself leaves a phantom
    phantom_hazard: float = 0.012        # phantom hazard per unit of (shrink x sales x weeks)
    # Returns.
    abuser_share: float = 0.07           # customers with abusive patterns
    abuse_given_abuser: float = 0.75     # share of an abuser's returns that are abusive
    abuse_given_honest: float = 0.01
    return_window_days: int = 30
    # Outcome noise: share of labels flipped after the outcome is drawn.
    label_noise: float = 0.03


DEFAULT_WORLD = WorldParameters()


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _times(rng, n, world):
    """Event times over the history, denser on busy weekdays and in the peak season."""
    day = np.arange(world.days)
    dates = np.datetime64(world.start, "D") + day
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7          # 1970-01-01 = Thu
    weight = np.asarray(world.weekly_profile)[weekday] * _season(dates, world)
    chosen = np.sort(rng.choice(world.days, size=n, p=weight / weight.sum()))
    seconds = rng.integers(8 * 3600, 22 * 3600, size=n)
    at = (dates[chosen].astype("datetime64[s]") + seconds.astype("timedelta64[s]"))
    return np.sort(at)


def _season(at, world):
    doy = (at.astype("datetime64[D]") - at.astype("datetime64[Y]")).astype(int)
    return 1.0 + world.yearly_amplitude * np.cos(2 * np.pi * (doy - world.yearly_peak_day) / 365.25)


def _weekday(at):
    return ((at.astype("datetime64[D]").view("int64") - 4) % 7).astype(np.float64)


def _escalation(rng, n, world):
    at = _times(rng, n, world)
    season = _season(at, world)
    tier_i = rng.choice(4, size=n, p=world.tier_shares)
    reasons = SPECS["escalation_risk"].schema["reason"].levels
    reason_i = rng.choice(len(reasons), size=n, p=world.reason_shares)
    channels = SPECS["escalation_risk"].schema["channel"].levels
    channel_i = rng.choice(4, size=n, p=(0.5, 0.32, 0.12, 0.06))
    value = np.clip(rng.lognormal(4.3, 0.9, n) * np.asarray(world.tier_value_multiplier)[tier_i],
                    1, 50_000)
    margin = np.clip(rng.normal(0.32, 0.14, n), -0.6, 0.9)
    late = reasons.index("late_shipment")
    days_late = np.where(reason_i == late, rng.gamma(1.6, world.late_days_mean / 1.6, n) * season,
                         rng.exponential(0.3, n))
    days_late = np.round(np.clip(days_late, 0, 120), 1)
    contacts = rng.poisson(0.5 + 0.6 * (reason_i == reasons.index("customer_complaint")), n)
    exceptions = rng.poisson(0.35, n)
    reason_effect = np.array([-0.8, -0.6, 0.2, 0.0, 0.6, 1.0])[reason_i]
    tier_effect = np.array([0.0, 0.15, 0.45, 0.7])[tier_i]
    channel_effect = np.array([0.0, -0.1, -0.3, 0.45])[channel_i]
    logit = (-1.9 + reason_effect + tier_effect + channel_effect
             + 0.9 * np.log1p(days_late) + 0.45 * np.minimum(contacts, 5)
             + 0.3 * np.minimum(exceptions, 4) + 0.35 * np.log(value / 100.0)
             - 0.8 * margin)
    columns = {
        "reason": np.asarray(reasons, dtype=object)[reason_i],
        "channel": np.asarray(channels, dtype=object)[channel_i],
        "order_value": np.round(value, 2), "margin": np.round(margin, 3),
        "customer_tier": np.asarray(TIERS, dtype=object)[tier_i],
        "days_late": days_late, "prior_contacts_90d": contacts.astype(float),
        "prior_exceptions_90d": exceptions.astype(float), "order_weekday": _weekday(at),
    }
    return at, columns, _sigmoid(logit)


def _phantom(rng, n, world):
    at = _times(rng, n, world)
    loc_i = rng.choice(3, size=n, p=(0.7, 0.1, 0.2))
    shrink = rng.beta(*world.shrink_rate_beta, n) * np.array([1.0, 0.4, 1.3])[loc_i]
    days_since_count = np.minimum(rng.exponential(80, n), 3650).astype(int)
    weekly_sales = np.clip(rng.lognormal(2.8, 1.0, n) * _season(at, world), 0, 100_000)
    exposure = shrink * weekly_sales * (days_since_count / 7.0)
    p_phantom = 1 - (1 - world.count_error_per_count) * np.exp(-world.phantom_hazard * exposure)
    phantom = rng.random(n) < p_phantom
    on_hand = np.where(phantom, rng.poisson(np.maximum(weekly_sales * 0.6, 1)),
                       rng.poisson(np.maximum(weekly_sales * rng.uniform(0.5, 4, n), 1)))
    daily = weekly_sales / 7.0
    p_zero = np.where(phantom, 0.85, np.exp(-daily))
    zero_days = rng.binomial(14, np.clip(p_zero, 0, 1))
    ecom_share = np.array([0.15, 0.0, 0.6])[loc_i]
    cancels = rng.poisson(np.where(phantom, 0.25 + 2.0 * ecom_share, 0.08))
    atp_gap = np.round(rng.normal(0, 1.5, n) + np.where(phantom, rng.normal(1.0, 2.5, n), 0))
    cost = np.clip(rng.lognormal(2.5, 1.0, n), 0.1, 100_000)
    columns = {
        "location_type": np.asarray(("store", "dc", "ship_from_store"), dtype=object)[loc_i],
        "on_hand": on_hand.astype(float), "atp_gap": atp_gap,
        "weekly_sales": np.round(weekly_sales, 2), "zero_sales_days": zero_days.astype(float),
        "no_stock_cancels_7d": cancels.astype(float),
        "days_since_count": days_since_count.astype(float), "shrink_rate": np.round(shrink, 4),
        "unit_cost": np.round(cost, 2), "store_age_years": np.round(rng.uniform(0, 40, n), 1),
    }
    # The signals were drawn from the phantom state itself, so the state is the oracle.
    return at, columns, phantom.astype(np.float64), phantom


def _promo(rng, n, world):
    at = _times(rng, n, world)
    season = _season(at, world)
    region_i = rng.choice(len(REGIONS), size=n)
    discount = rng.uniform(5, 60, n)
    true_uplift = 1 + world.promo_elasticity * discount / 10
    expected = np.clip(true_uplift * rng.lognormal(0, world.planner_forecast_noise, n), 1, 20)
    baseline = np.clip(rng.lognormal(5.0, 1.0, n), 1, 1_000_000)
    on_hand = np.round(baseline * rng.lognormal(np.log(2.2), 0.6, n))
    inbound = np.round(baseline * rng.uniform(0, 4, n) * (rng.random(n) < 0.8))
    lead_mean = rng.lognormal(np.log(world.lead_time_median_days), 0.45, n)
    lead_std = lead_mean * rng.uniform(0.5, 1.5, n) * world.lead_time_cv
    fill = rng.beta(*world.fill_rate_beta, n)
    days_to_launch = rng.integers(3, 61, n)
    week = np.clip(((at.astype("datetime64[D]") - at.astype("datetime64[Y]")).astype(int) // 7)
                   + 1, 1, 53)
    # Simulate the outcome many times per row to get its true probability, then draw once.
    draws = 64
    regional = np.asarray(world.regional_demand)[region_i]
    demand = (baseline * true_uplift * season * regional)[:, None] * rng.lognormal(
        0, world.promo_demand_noise, (n, draws))
    lead = rng.normal(lead_mean[:, None], lead_std[:, None], (n, draws))
    arrived = lead <= (days_to_launch + 3)[:, None]
    delivered = inbound[:, None] * np.minimum(1, rng.normal(fill[:, None], 0.05, (n, draws)))
    supply = on_hand[:, None] + np.where(arrived, delivered, 0)
    out = demand > supply
    p = out.mean(axis=1)
    columns = {
        "region": np.asarray(REGIONS, dtype=object)[region_i],
        "discount_pct": np.round(discount, 1), "expected_uplift": np.round(expected, 3),
        "baseline_weekly_units": np.round(baseline, 1), "on_hand_units": on_hand,
        "inbound_units": inbound, "supplier_lead_time_days": np.round(lead_mean, 1),
        "lead_time_std_days": np.round(lead_std, 1), "supplier_fill_rate": np.round(fill, 3),
        "days_to_launch": days_to_launch.astype(float), "launch_week": week.astype(float),
        "sku_age_days": rng.integers(30, 3000, n).astype(float),
    }
    return at, columns, p, out[:, 0]


def _returns(rng, n, world):
    at = _times(rng, n, world)
    abuser = rng.random(n) < world.abuser_share
    tiers = np.where(abuser, rng.choice(4, size=n, p=(0.75, 0.2, 0.04, 0.01)),
                     rng.choice(4, size=n, p=world.tier_shares))
    value = np.clip(rng.lognormal(3.9, 0.9, n) * np.where(abuser, 1.8, 1.0), 1, 50_000)
    channel_i = np.where(abuser, rng.choice(3, size=n, p=(0.7, 0.2, 0.1)),
                         rng.choice(3, size=n, p=(0.45, 0.4, 0.15)))
    reason_i = np.where(abuser, rng.choice(6, size=n, p=(0.1, 0.3, 0.25, 0.25, 0.05, 0.05)),
                        rng.choice(6, size=n, p=(0.35, 0.15, 0.12, 0.25, 0.06, 0.07)))
    condition_i = np.where(abuser, rng.choice(5, size=n, p=(0.1, 0.25, 0.4, 0.1, 0.15)),
                           rng.choice(5, size=n, p=(0.45, 0.35, 0.1, 0.07, 0.03)))
    window = world.return_window_days
    days = np.where(abuser & (rng.random(n) < 0.6), rng.integers(window - 6, window + 1, n),
                    np.minimum(rng.exponential(9, n), 365)).astype(int)
    rate = np.where(abuser, rng.beta(4, 6, n), rng.beta(1.5, 11, n))
    returns_90 = rng.poisson(np.where(abuser, 4.5, 0.8))
    receipt = rng.random(n) < np.where(abuser, 0.55, 0.92)
    p_class = np.where(abuser, world.abuse_given_abuser, world.abuse_given_honest)
    abusive = rng.random(n) < p_class
    spec = SPECS["return_abuse_risk"].schema
    columns = {
        "value": np.round(value, 2),
        "channel": np.asarray(spec["channel"].levels, dtype=object)[channel_i],
        "reason": np.asarray(spec["reason"].levels, dtype=object)[reason_i],
        "condition": np.asarray(spec["condition"].levels, dtype=object)[condition_i],
        "days_since_purchase": days.astype(float), "customer_return_rate": np.round(rate, 3),
        "returns_last_90d": returns_90.astype(float), "receipt_present": receipt,
        "customer_tier": np.asarray(TIERS, dtype=object)[tiers], "return_weekday": _weekday(at),
    }
    return at, columns, p_class, abusive


_GENERATORS = {"escalation_risk": _escalation, "phantom_inventory_risk": _phantom,
               "promo_stockout_risk": _promo, "return_abuse_risk": _returns}


def generate(model: str, rows: int, seed: int = 0,
             world: WorldParameters = DEFAULT_WORLD) -> Dataset:
    """Return ``rows`` rows of ``model``'s history, in time order, identical for equal arguments."""
    if model not in _GENERATORS:
        raise KeyError(model)
    rng = np.random.default_rng([seed, sorted(_GENERATORS).index(model)])
    result = _GENERATORS[model](rng, rows, world)
    if len(result) == 3:
        at, columns, p = result
        outcome = rng.random(rows) < p
    else:
        at, columns, p, outcome = result
    flip = rng.random(rows) < world.label_noise
    label = np.where(flip, ~outcome, outcome).astype(np.int8)
    oracle = p * (1 - world.label_noise) + (1 - p) * world.label_noise
    return Dataset(model=model, at=at, columns=columns, label=label, oracle=oracle,
                   source=f"synthetic:seed={seed},rows={rows}")
