"""An in-process ChatProvider that answers from a script and records every call (no sockets)."""

from __future__ import annotations

from collections import deque

from shared.llm.ports import ProviderCall, ProviderReply


class ScriptedProvider:
    """Answers each call with the next scripted reply or raises the next scripted error."""

    def __init__(self, name: str, *script: ProviderReply | Exception) -> None:
        self.name = name
        self.calls: list[ProviderCall] = []
        self._script: deque[ProviderReply | Exception] = deque(script)

    def chat(self, call: ProviderCall) -> ProviderReply:
        """The next scripted outcome; an echo of the prompt once the script is used up."""
        self.calls.append(call)
        step = self._script.popleft() if self._script else ProviderReply(call.prompt, 10, 5)
        if isinstance(step, Exception):
            raise step
        return step


def reply(text: str | None, tokens_in: int = 100, tokens_out: int = 50) -> ProviderReply:
    """A scripted answer."""
    return ProviderReply(text, tokens_in, tokens_out, "stop")
