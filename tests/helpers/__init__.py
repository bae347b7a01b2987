"""What the test tiers share; nothing here is collected as a test.

- waiting: `wait_for`, polling a condition until a deadline
- pubsub: `TopicTap`, a pull subscription that sees what is published after it
- tickets: `open_ticket`, seeding an escalation in Firestore as the support agent does
- functions_app: a function's main.py through functions-framework, and Pub/Sub CloudEvents
- status_client: test clients of the status function, signed in or not
- fuzzing: Hypothesis settings and strategies of the property tests and the HTTP fuzzing
- fuzz_http: driving the HTTP functions with schemathesis from their OpenAPI files
- vendor_replay: recorded vendor responses replayed at the httpx transport
- fakes/: fake vendor servers and in-process stand-ins (OpenAI, Vertex, vendors, LLM providers)
"""
