"""Fake vendor HTTP servers for tests: real sockets on 127.0.0.1, the vendors' wire formats.

- recording_server: the threaded server that records requests and answers from a script
- openai_api: `POST /v1/chat/completions` (OpenAI and compatible servers)
- vertex_api: Vertex AI Gemini `...:generateContent`
- scripted_openai: an OpenAI-compatible server whose failures are scripted per prompt (faults)
- network: a guard that fails any attempt to reach beyond the loopback interface
"""
