"""The bundled sample data set, and the DataSource port on it.

A small, deterministic, made-up European B2C subscription shop.

Every agent runs on this data when no real source is connected, so the demo, the tests and
the offline LLM provider all see the same numbers. `generate_sample_dataset()` builds it from
`random.Random(seed)` alone (no clock, no hashing of strings, no set iteration), so the same
arguments always give the same data set, byte for byte.

What is generated (defaults: `as_of=2026-11-16`, `seed=7`, `customers=400`):

- **Period.** Orders, spend and tickets cover `period_start` (the first day of the month
  twelve months before `as_of`'s month) to `as_of` inclusive: twelve complete months plus the
  partial current month. Nothing is dated after `as_of`.
- **Customers** (`Customer`). 30 % are an existing base who signed up in the two years before
  the period; the rest sign up during it. A new customer's month and acquisition channel are
  drawn in proportion to that month's spend on the channel divided by the channel's relative
  cost per acquisition (email is cheapest, then referral, search, social), so spend buys
  customers. Plans are `basic`, `plus` and `premium`; referral and email bring richer plans,
  social the cheapest. Countries are weighted towards DE, FR and NL. Names are invented;
  e-mail addresses use the reserved domains example.com/.org/.net and are unique.
- **Orders** (`Order`). A customer who signs up in the period orders on the signup day, then
  again after random gaps (shorter on richer plans), thinned by a seasonality curve: a summer
  dip and a November/December peak, when baskets are also about 12 % larger. Basket values
  are log-normal around the plan's typical basket (EUR 35 / 55 / 90). About a third of
  customers churn at some point and never order again (social customers most, referral least);
  the existing base's order history starts at `period_start` (older orders are not included).
  Amounts are integer cents, all in EUR.
- **Channel spend** (`ChannelSpend`). One row per month per channel (`search`, `social`,
  `email`, `referral`), growing about 2 % a month, higher in November/December, with ±10 %
  noise; the current month is prorated to the days elapsed. Referral spend is referral bonuses.
- **Support tickets** (`SupportTicket`). About one order in six (18 %) leads to a ticket within a
  week (shipping most often, more so in the holiday peak), and some new customers open an
  account ticket. First response time depends on the contact channel (phone and chat fast,
  e-mail slow) and priority; tickets older than a week are almost all resolved; about half of
  the resolved tickets carry a CSAT score (1-5), lower when the first response was slow. A
  billing incident three days before `as_of` (a payment provider charging some customers
  twice) adds a burst of urgent and high-priority billing tickets, so this week's support
  picture differs from last week's.

Times are UTC. The numbers are plausible, not calibrated to any real business.
"""

from __future__ import annotations

import calendar
import math
import random
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from shared.core.dataset import (
    ACQUISITION_CHANNELS,
    TICKET_CATEGORIES,
    TICKET_CHANNELS,
    TICKET_PRIORITIES,
    AcquisitionChannel,
    Campaign,
    ChannelSpend,
    Customer,
    Dataset,
    Order,
    Plan,
    SupportTicket,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    month_key,
)

# --- generator assumptions (see the module docstring) ----------------------------------

_EXISTING_BASE_SHARE = 0.30
# Relative order propensity per calendar month (index 1-12): summer dip, holiday peak.
_SEASONALITY = (0.0, 0.85, 0.85, 0.95, 0.95, 1.0, 0.95, 0.85, 0.8, 1.0, 1.05, 1.3, 1.45)
_PEAK_SEASONALITY = max(_SEASONALITY)
_HOLIDAY_MONTHS = (11, 12)
_HOLIDAY_BASKET_UPLIFT = 1.12

_MONTHLY_SPEND_CENTS: dict[AcquisitionChannel, int] = {
    "search": 90_000,
    "social": 70_000,
    "email": 12_500,
    "referral": 20_000,
}
_SPEND_MONTHLY_GROWTH = 0.02
# Cost of one customer relative to search; lower means a euro buys more customers.
_RELATIVE_CAC: dict[AcquisitionChannel, float] = {
    "search": 1.0,
    "social": 1.4,
    "email": 0.5,
    "referral": 0.6,
}
_PLAN_WEIGHTS: dict[AcquisitionChannel, tuple[float, float, float]] = {
    "search": (0.50, 0.35, 0.15),
    "social": (0.65, 0.28, 0.07),
    "email": (0.45, 0.38, 0.17),
    "referral": (0.35, 0.40, 0.25),
}
_CHURN_PROBABILITY: dict[AcquisitionChannel, float] = {
    "search": 0.35,
    "social": 0.50,
    "email": 0.30,
    "referral": 0.20,
}
_EXISTING_BASE_CHURN_PROBABILITY = 0.25
_MEAN_DAYS_BEFORE_CHURN = 120.0
_PLANS: tuple[Plan, ...] = ("basic", "plus", "premium")
_TYPICAL_BASKET_CENTS: dict[Plan, int] = {"basic": 3_500, "plus": 5_500, "premium": 9_000}
# Mean days between order opportunities before seasonal thinning.
_MEAN_ORDER_GAP_DAYS: dict[Plan, float] = {"basic": 40.0, "plus": 28.0, "premium": 21.0}
_MIN_ORDER_GAP_DAYS = 5

_COUNTRY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("DE", 30),
    ("FR", 18),
    ("NL", 12),
    ("ES", 10),
    ("IT", 10),
    ("AT", 6),
    ("BE", 6),
    ("IE", 4),
    ("PT", 4),
)
_FIRST_NAMES = (
    "Anna", "Lukas", "Emma", "Jonas", "Mia", "Leon", "Sofia", "Noah", "Lea", "Paul",
    "Chloe", "Hugo", "Louise", "Jules", "Ines", "Lucas", "Sara", "Daan", "Julia", "Sem",
    "Lucia", "Mateo", "Giulia", "Marco", "Chiara", "Luca", "Aoife", "Sean", "Beatriz",
    "Tiago", "Elena", "David", "Marie", "Felix", "Clara", "Finn", "Lena", "Max", "Nina",
    "Tom", "Eva", "Jan", "Laura", "Pablo", "Alice", "Victor", "Rosa", "Oscar",
)  # fmt: skip
_LAST_NAMES = (
    "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Martin", "Bernard", "Dubois", "Laurent", "Moreau", "Simon", "Jansen", "de Vries",
    "van Dijk", "Bakker", "Visser", "Garcia", "Fernandez", "Lopez", "Martinez", "Rossi",
    "Russo", "Ferrari", "Esposito", "Bianchi", "Gruber", "Huber", "Peeters", "Maes",
    "Murphy", "Kelly", "Silva", "Santos", "Costa", "Hoffmann", "Koch", "Richter",
    "Klein", "Wolf", "Neumann", "Romano", "Colombo", "Ricci", "Janssens", "Walsh",
)  # fmt: skip
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

_TICKET_PROBABILITY_PER_ORDER = 0.18
_ACCOUNT_TICKET_PROBABILITY_AT_SIGNUP = 0.10
_CATEGORY_WEIGHTS: dict[TicketCategory, float] = {
    "billing": 0.20,
    "shipping": 0.38,
    "product": 0.27,
    "account": 0.15,
}
_HOLIDAY_SHIPPING_WEIGHT_FACTOR = 1.6
_TICKET_CHANNEL_WEIGHTS: dict[TicketChannel, float] = {
    "email": 0.45,
    "chat": 0.35,
    "phone": 0.12,
    "social": 0.08,
}
_PRIORITY_WEIGHTS: dict[TicketPriority, float] = {
    "low": 0.30,
    "normal": 0.45,
    "high": 0.18,
    "urgent": 0.07,
}
_BASE_FIRST_RESPONSE_MINUTES: dict[TicketChannel, float] = {
    "email": 240.0,
    "chat": 4.0,
    "phone": 2.0,
    "social": 90.0,
}
_PRIORITY_RESPONSE_FACTOR: dict[TicketPriority, float] = {
    "low": 1.6,
    "normal": 1.0,
    "high": 0.5,
    "urgent": 0.25,
}
_HOLIDAY_BACKLOG_FACTOR = 1.5
_SLOW_RESPONSE_MINUTES = 480
_CSAT_RESPONSE_RATE = 0.55
_INCIDENT_DAYS_BEFORE_AS_OF = 3
_INCIDENT_TICKETS = 10


def generate_sample_dataset(
    as_of: date = date(2026, 11, 16), seed: int = 7, customers: int = 400
) -> Dataset:
    """Generate the sample business as of a date; same arguments, same data set."""
    if customers < 0:
        raise ValueError(f"customers must be >= 0, got {customers}")
    rng = random.Random(seed)
    period_start = _add_months(as_of.replace(day=1), -12)
    spend_rows = _generate_channel_spend(rng, period_start, as_of)
    customer_rows = _generate_customers(rng, customers, period_start, as_of, spend_rows)
    order_drafts = [
        draft
        for customer, churn_date in customer_rows
        for draft in _generate_orders(rng, customer, churn_date, period_start, as_of)
    ]
    order_drafts.sort(key=lambda draft: (draft[1], draft[0]))
    orders = tuple(
        Order(order_id=f"ord_{index:05d}", customer_id=cid, order_date=day, amount_cents=cents)
        for index, (cid, day, cents) in enumerate(order_drafts, start=1)
    )
    tickets = _generate_tickets(
        rng, [customer for customer, _ in customer_rows], orders, period_start, as_of
    )
    return Dataset(
        as_of=as_of,
        seed=seed,
        customers=tuple(customer for customer, _ in customer_rows),
        orders=orders,
        channel_spend=tuple(spend_rows),
        tickets=tickets,
        # A stream of its own, so campaigns never shift the figures generated above.
        campaigns=_generate_campaigns(random.Random(f"campaigns-{seed}"), spend_rows),
    )


# Funnel of each channel's campaigns: impressions per euro, click rate, conversion rate, and
# the value of a conversion, loosely like small e-commerce benchmarks.
_CAMPAIGN_FUNNELS: dict[str, tuple[float, float, float, int]] = {
    "search": (60.0, 0.035, 0.030, 6_400),
    "social": (300.0, 0.009, 0.012, 5_200),
    "email": (40.0, 0.045, 0.050, 5_800),
    "referral": (80.0, 0.020, 0.040, 6_900),
}
_CAMPAIGN_SPLIT = (("always-on", 0.7), ("promo", 0.3))


def _generate_campaigns(rng: random.Random, spend_rows: list[ChannelSpend]) -> tuple[Campaign, ...]:
    """Two campaigns per channel and month whose spend adds up to the channel's spend."""
    rows = []
    for spend in spend_rows:
        per_euro, ctr, cvr, value_cents = _CAMPAIGN_FUNNELS[spend.channel]
        year, month = int(spend.month[:4]), int(spend.month[5:])
        for name, share in _CAMPAIGN_SPLIT:
            cents = round(spend.spend_cents * share)
            impressions = round(cents / 100 * per_euro * rng.uniform(0.85, 1.15))
            clicks = min(impressions, round(impressions * ctr * rng.uniform(0.8, 1.2)))
            conversions = min(clicks, round(clicks * cvr * rng.uniform(0.7, 1.3)))
            revenue = round(conversions * value_cents * rng.uniform(0.85, 1.15))
            rows.append(
                Campaign(
                    day=date(year, month, 1),
                    channel=spend.channel,
                    campaign=f"{spend.channel}-{name}",
                    impressions=impressions,
                    clicks=clicks,
                    conversions=conversions,
                    spend_cents=cents,
                    revenue_cents=revenue,
                )
            )
    return tuple(rows)


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _month_starts(period_start: date, as_of: date) -> list[date]:
    months = []
    month = period_start
    while month <= as_of:
        months.append(month)
        month = _add_months(month, 1)
    return months


def _generate_channel_spend(
    rng: random.Random, period_start: date, as_of: date
) -> list[ChannelSpend]:
    rows = []
    for month_index, month in enumerate(_month_starts(period_start, as_of)):
        # Spend follows demand a little: marketers push budget into the holiday peak.
        season = 1.0 + (_SEASONALITY[month.month] - 1.0) * 0.5
        elapsed = 1.0
        if month.year == as_of.year and month.month == as_of.month:
            elapsed = as_of.day / _days_in_month(as_of)
        for channel in ACQUISITION_CHANNELS:
            growth = (1.0 + _SPEND_MONTHLY_GROWTH) ** month_index
            noise = rng.uniform(0.9, 1.1)
            cents = round(_MONTHLY_SPEND_CENTS[channel] * growth * season * noise * elapsed)
            rows.append(ChannelSpend(month=month_key(month), channel=channel, spend_cents=cents))
    return rows


def _generate_customers(
    rng: random.Random,
    count: int,
    period_start: date,
    as_of: date,
    spend_rows: list[ChannelSpend],
) -> list[tuple[Customer, date | None]]:
    """Customers with the date each one churns (None for those who stay)."""
    existing_count = round(count * _EXISTING_BASE_SHARE)
    month_by_key = {month_key(m): m for m in _month_starts(period_start, as_of)}
    acquisition_slots = [(month_by_key[row.month], row.channel) for row in spend_rows]
    acquisition_weights = [row.spend_cents / _RELATIVE_CAC[row.channel] for row in spend_rows]
    countries = [country for country, _ in _COUNTRY_WEIGHTS]
    country_weights = [weight for _, weight in _COUNTRY_WEIGHTS]
    base_start = period_start - timedelta(days=730)
    used_emails: dict[str, int] = {}
    drafts: list[tuple[date, AcquisitionChannel, date | None]] = []
    for index in range(count):
        if index < existing_count:
            signup = base_start + timedelta(days=rng.randrange((period_start - base_start).days))
            channel: AcquisitionChannel = rng.choice(ACQUISITION_CHANNELS)
            churn_date = None
            if rng.random() < _EXISTING_BASE_CHURN_PROBABILITY:
                churn_date = period_start + timedelta(days=rng.randrange(365))
        else:
            month, channel = rng.choices(acquisition_slots, weights=acquisition_weights)[0]
            last_day = min(as_of, month.replace(day=_days_in_month(month)))
            signup = month + timedelta(days=rng.randrange((last_day - month).days + 1))
            churn_date = None
            if rng.random() < _CHURN_PROBABILITY[channel]:
                days_active = rng.expovariate(1.0 / _MEAN_DAYS_BEFORE_CHURN)
                churn_date = signup + timedelta(days=int(days_active))
        drafts.append((signup, channel, churn_date))
    # Ids follow signup order, the way a real system would have numbered the accounts.
    drafts.sort(key=lambda draft: draft[0])
    customers = []
    for number, (signup, channel, churn_date) in enumerate(drafts, start=1):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        customer = Customer(
            customer_id=f"cus_{number:04d}",
            name=f"{first} {last}",
            email=_unique_email(first, last, rng.choice(_EMAIL_DOMAINS), used_emails),
            country=rng.choices(countries, weights=country_weights)[0],
            signup_date=signup,
            acquisition_channel=channel,
            plan=rng.choices(_PLANS, weights=_PLAN_WEIGHTS[channel])[0],
        )
        customers.append((customer, churn_date))
    return customers


def _unique_email(first: str, last: str, domain: str, used: dict[str, int]) -> str:
    local = f"{first}.{last}".lower().replace(" ", "")
    seen = used.get(local, 0)
    used[local] = seen + 1
    suffix = "" if seen == 0 else str(seen + 1)
    return f"{local}{suffix}@{domain}"


def _generate_orders(
    rng: random.Random,
    customer: Customer,
    churn_date: date | None,
    period_start: date,
    as_of: date,
) -> list[tuple[str, date, int]]:
    """(customer_id, order_date, amount_cents) drafts for one customer."""
    last_possible = as_of if churn_date is None else min(as_of, churn_date)
    # Some people simply order more often than others on the same plan.
    mean_gap = _MEAN_ORDER_GAP_DAYS[customer.plan] * rng.lognormvariate(0.0, 0.3)
    drafts = []
    if customer.signup_date >= period_start:
        day = customer.signup_date
        drafts.append((customer.customer_id, day, _basket_cents(rng, customer.plan, day)))
    else:
        day = period_start + timedelta(days=int(rng.uniform(0.0, mean_gap)))
        if day <= last_possible and rng.random() < _SEASONALITY[day.month] / _PEAK_SEASONALITY:
            drafts.append((customer.customer_id, day, _basket_cents(rng, customer.plan, day)))
    while True:
        gap = max(_MIN_ORDER_GAP_DAYS, int(rng.expovariate(1.0 / mean_gap)))
        day += timedelta(days=gap)
        if day > last_possible:
            return drafts
        if rng.random() < _SEASONALITY[day.month] / _PEAK_SEASONALITY:
            drafts.append((customer.customer_id, day, _basket_cents(rng, customer.plan, day)))


def _basket_cents(rng: random.Random, plan: Plan, day: date) -> int:
    uplift = _HOLIDAY_BASKET_UPLIFT if day.month in _HOLIDAY_MONTHS else 1.0
    cents = _TYPICAL_BASKET_CENTS[plan] * rng.lognormvariate(0.0, 0.3) * uplift
    return max(500, round(cents))


def _generate_tickets(
    rng: random.Random,
    customers: list[Customer],
    orders: tuple[Order, ...],
    period_start: date,
    as_of: date,
) -> tuple[SupportTicket, ...]:
    drafts: list[SupportTicket] = []
    for customer in customers:
        if customer.signup_date < period_start:
            continue  # the existing base's signup tickets predate the period
        if rng.random() < _ACCOUNT_TICKET_PROBABILITY_AT_SIGNUP:
            created = _ticket_time(rng, customer.signup_date, max_days_later=2)
            drafts.append(_draft_ticket(rng, customer.customer_id, created, "account", as_of))
    for order in orders:
        if rng.random() < _TICKET_PROBABILITY_PER_ORDER:
            created = _ticket_time(rng, order.order_date, max_days_later=6)
            category = _draw_category(rng, order.order_date)
            drafts.append(_draft_ticket(rng, order.customer_id, created, category, as_of))
    incident_day = as_of - timedelta(days=_INCIDENT_DAYS_BEFORE_AS_OF)
    charged_twice = [order for order in orders if order.order_date == incident_day]
    if charged_twice:
        for _ in range(_INCIDENT_TICKETS):
            customer_id = rng.choice(charged_twice).customer_id
            created = _ticket_time(rng, incident_day, max_days_later=1)
            priority: TicketPriority = "urgent" if rng.random() < 0.4 else "high"
            drafts.append(
                _draft_ticket(rng, customer_id, created, "billing", as_of, priority=priority)
            )
    latest = datetime.combine(as_of, time(23, 59), tzinfo=UTC)
    kept = sorted(
        (draft for draft in drafts if draft.created_at <= latest),
        key=lambda draft: (draft.created_at, draft.customer_id),
    )
    # Ids are given after sorting so that they follow creation time.
    return tuple(
        draft.model_copy(update={"ticket_id": f"tkt_{index:05d}"})
        for index, draft in enumerate(kept, start=1)
    )


def _ticket_time(rng: random.Random, day: date, max_days_later: int) -> datetime:
    created_day = day + timedelta(days=rng.randint(0, max_days_later))
    minute_of_day = rng.randrange(7 * 60, 22 * 60)  # support inbox traffic in waking hours
    return datetime.combine(created_day, time(minute_of_day // 60, minute_of_day % 60), UTC)


def _draw_category(rng: random.Random, order_date: date) -> TicketCategory:
    weights = dict(_CATEGORY_WEIGHTS)
    if order_date.month in _HOLIDAY_MONTHS:
        weights["shipping"] *= _HOLIDAY_SHIPPING_WEIGHT_FACTOR
    return rng.choices(TICKET_CATEGORIES, weights=[weights[c] for c in TICKET_CATEGORIES])[0]


def _draft_ticket(
    rng: random.Random,
    customer_id: str,
    created_at: datetime,
    category: TicketCategory,
    as_of: date,
    priority: TicketPriority | None = None,
) -> SupportTicket:
    """A ticket without its final id."""
    channel_weights = [_TICKET_CHANNEL_WEIGHTS[channel] for channel in TICKET_CHANNELS]
    contact_channel = rng.choices(TICKET_CHANNELS, weights=channel_weights)[0]
    if priority is None:
        weights = dict(_PRIORITY_WEIGHTS)
        if category == "billing":  # money problems get escalated
            weights["high"] *= 1.8
            weights["urgent"] *= 1.8
        priority = rng.choices(TICKET_PRIORITIES, weights=[weights[p] for p in TICKET_PRIORITIES])[
            0
        ]
    minutes = (
        _BASE_FIRST_RESPONSE_MINUTES[contact_channel]
        * _PRIORITY_RESPONSE_FACTOR[priority]
        * rng.lognormvariate(0.0, 0.6)
    )
    if created_at.month in _HOLIDAY_MONTHS:
        minutes *= _HOLIDAY_BACKLOG_FACTOR
    first_response_minutes = max(1, math.ceil(minutes))
    age_days = (as_of - created_at.date()).days
    if age_days >= 7:
        resolve_probability = 0.96
    elif age_days >= 2:
        resolve_probability = 0.75
    else:
        resolve_probability = 0.35
    resolved = rng.random() < resolve_probability
    csat = None
    if resolved and rng.random() < _CSAT_RESPONSE_RATE:
        mean_score = 4.3
        if first_response_minutes > _SLOW_RESPONSE_MINUTES:
            mean_score -= 0.8
        if category in ("billing", "shipping"):
            mean_score -= 0.3
        csat = min(5, max(1, round(rng.gauss(mean_score, 0.8))))
    return SupportTicket(
        ticket_id="",
        customer_id=customer_id,
        created_at=created_at,
        contact_channel=contact_channel,
        category=category,
        priority=priority,
        first_response_minutes=first_response_minutes,
        resolved=resolved,
        csat=csat,
    )


class SampleDataSource:
    """Generates the sample business once per process and hands it out."""

    def __init__(self, as_of: date, seed: int = 7, customers: int = 400) -> None:
        self.as_of = as_of
        self.seed = seed
        self.customers = customers

    @cached_property
    def _dataset(self) -> Dataset:
        return generate_sample_dataset(as_of=self.as_of, seed=self.seed, customers=self.customers)

    def load(self) -> Dataset:
        """The sample data set as of the configured date."""
        return self._dataset
