"""controlroom's client libraries for host applications (`controlroom.sdk`)."""
