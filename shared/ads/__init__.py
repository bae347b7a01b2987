"""The ad manager: campaigns drafted from briefs and segments, published and re-budgeted only
after a person approves, and their daily performance pulled back.

    models.py    campaign drafts, published campaigns, budget changes, daily performance
    ports.py     AdPlatform: what every ad platform adapter does (Google Ads, Meta, LinkedIn)
"""
