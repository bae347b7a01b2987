"""The LLM layer: one small interface, three providers, and what wraps every remote call.

    from shared.wiring.llm import build_llm
    from shared.llm.types import CompletionRequest

    llm = build_llm(settings, cache=FirestoreLlmCache(settings.project_id))
    prose = llm.complete(CompletionRequest(system=..., prompt=..., tier="smart", agent="finance"))
    label, usage = llm.structured(CompletionRequest(..., tier="fast"), TicketLabel)

Where things are:
- types: CompletionRequest, Completion and the LLM protocol (what agents use)
- errors: the LLM errors and where they sit in controlroom's tree
- offline, openai_provider, vertex_provider: the providers (vendor SDKs load only with them)
- pipeline: masking, cache, retries, cost and the fallback chain around remote providers
- pricing, tiers: pure helpers (pii masking is shared.core.pii); cache: the response-cache port
- built from settings by shared.wiring.llm: build_llm(settings, cache)

Nothing is re-exported here, so importing one module (settings import `pricing`) stays cheap.
"""
