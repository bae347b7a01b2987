"""The HTTP kit every vendor client is built on: one client with retries and timeouts
(`client`), a circuit breaker (`breaker`), the vendor errors and where they sit in
controlroom's tree (`errors`), and one Retry-After parser (`client.parse_retry_after`)."""
