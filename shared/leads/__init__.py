"""Lead scoring: fit and intent scores with reasons a salesperson can read.

scoring.py      the scores and their reasons, from traits, enrichment and behaviour (pure)
enrichment.py   the Enricher port, People Data Labs behind it, and the local twin
firestore.py    leads/{user_id}, the enrichment cache, and the members to score
ports.py        LeadPorts: what the handlers (shared/agents/lead_steps.py) use

lead_ports() is built from settings in shared/wiring/leads.py.
"""
