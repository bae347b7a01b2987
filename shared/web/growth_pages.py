"""Status page routes for growth: scored leads and the ad manager's campaigns (read only).

    GET /leads        the best-scored leads with their grade, company and reasons
    GET /campaigns    every campaign drafted or published, its budget and budget changes,
                      and its spend and return over the last 7 days of pulled figures

Deciding on campaigns and budgets happens on the runs' approval pages (/approvals).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import flask

from shared.core.models import utcnow
from shared.web.pages import render_html
from shared.web.responses import json_response
from shared.web.router import Routes

LEADS_SHOWN = 50
FIGURES_DAYS = 7

routes = Routes()


@routes.route("GET", r"/leads")
def _leads_page(request: flask.Request, as_json: bool) -> flask.Response:
    from shared.wiring.leads import lead_ports

    leads = lead_ports().leads.top(LEADS_SHOWN)
    if as_json:
        return json_response({"leads": leads})
    return render_html("leads.html", leads=leads)


def _with_figures(campaigns: list[dict[str, Any]], rows: list[Any]) -> list[dict[str, Any]]:
    totals: dict[str, list[int]] = {}
    for row in rows:
        spend_value = totals.setdefault(row.campaign_key, [0, 0])
        spend_value[0] += row.spend_cents
        spend_value[1] += row.conversion_value_cents
    shown = []
    for campaign in campaigns:
        spend, value = totals.get(campaign.get("campaign_key", ""), [0, 0])
        changes = sorted(
            (campaign.get("budget_changes") or {}).values(), key=lambda c: str(c.get("at"))
        )
        shown.append(
            {
                "campaign_key": campaign.get("campaign_key"),
                "platform": campaign.get("platform"),
                "segment": campaign.get("segment"),
                "status": campaign.get("status") or "drafted",
                "external_id": campaign.get("external_id"),
                "daily_budget_cents": campaign.get("daily_budget_cents"),
                "run_id": campaign.get("run_id"),
                "budget_changes": changes,
                "spend_cents_7d": spend,
                "conversion_value_cents_7d": value,
                "roas_7d": round(value / spend, 2) if spend else None,
            }
        )
    return shown


@routes.route("GET", r"/campaigns")
def _campaigns_page(request: flask.Request, as_json: bool) -> flask.Response:
    from shared.wiring.ads import ad_ports

    store = ad_ports().store
    today = utcnow().date()
    rows = store.performance_between(today - timedelta(days=FIGURES_DAYS - 1), today)
    campaigns = _with_figures(store.list_campaigns(), rows)
    if as_json:
        return json_response({"campaigns": campaigns})
    return render_html("campaigns.html", campaigns=campaigns)
