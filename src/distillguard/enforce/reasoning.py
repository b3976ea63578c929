"""Reasoning protection: keep chains of thought out of harvesters' hands.

Reasoning reaches a client in three ways, and each is removed here:
- separate fields: `reasoning_content` / `reasoning` / `reasoning_details` (OpenAI-compatible
  servers such as DeepSeek, vLLM, OpenRouter);
- `<think>...</think>` inside `content`: everything up to the LAST closing tag is reasoning,
  including when the server omitted the opening tag (its chat template already holds it);
- Anthropic `thinking` / `redacted_thinking` content blocks.

Modes: "omit" drops the reasoning; "summarize" replaces it with a short summary from a
configurable summarizer upstream, or an extractive one (first and last sentences, capped).

Streaming never sends reasoning text as content: the `<think>` filter is a small state
machine that drops text inside a region and holds back only text that may still turn out
to be reasoning (a possible partial tag; text after a `</think>` that a later closing tag
would turn into reasoning, at most `hold_chars`). Non-streaming bodies run the same
machine with an unbounded hold, so they follow the last-closing-tag rule exactly.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from distillguard.enforce.decide import decision_of
from distillguard.gateway.pipeline import Plugin, RequestContext, ResponseTransform

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"
REASONING_FIELDS = ("reasoning_content", "reasoning", "reasoning_details")
_TAGS = (OPEN_TAG, CLOSE_TAG)
_KEEP_HEAD = 8_000  # chars of reasoning kept for the summary: the start ...
_KEEP_TAIL = 8_000  # ... and the end


def _partial_tag_suffix(text: str, tags: tuple[str, ...]) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of one of `tags`."""
    longest = max(len(t) for t in tags) - 1
    for k in range(min(longest, len(text)), 0, -1):
        end = text[-k:]
        if any(t.startswith(end) for t in tags):
            return k
    return 0


class ReasoningBuffer:
    """The reasoning removed from one choice or block, bounded: its start and its end."""

    __slots__ = ("_head", "_tail", "total")

    def __init__(self) -> None:
        self._head = ""
        self._tail = ""
        self.total = 0

    def add(self, text: str) -> None:
        if not text:
            return
        self.total += len(text)
        room = _KEEP_HEAD - len(self._head)
        if room > 0:
            self._head += text[:room]
            text = text[room:]
        if text:
            self._tail = (self._tail + text)[-_KEEP_TAIL:]

    def text(self) -> str:
        return self._head + ("\n...\n" + self._tail if self._tail else "")


class ThinkTagFilter:
    """Removes `<think>` regions from text fed in arbitrary pieces; see the module docstring."""

    def __init__(
        self,
        implicit_open: bool = False,
        hold_chars: int | None = 256,
        reasoning: ReasoningBuffer | None = None,
    ) -> None:
        self.hold_chars = hold_chars  # None: hold until finish (whole bodies)
        self.reasoning = reasoning if reasoning is not None else ReasoningBuffer()
        self.removed = implicit_open  # whether any reasoning or tag was seen
        self._in_think = implicit_open
        self._tail = ""  # unscanned text that may be the start of a tag
        self._held = ""  # answer-looking text that a later </think> would make reasoning
        self._lstrip = False  # drop whitespace between </think> and the answer

    def _hold(self, text: str) -> None:
        if self._lstrip:
            text = text.lstrip()
            if text:
                self._lstrip = False
        self._held += text

    def _drop_held(self) -> None:
        self.reasoning.add(self._held)
        self._held = ""

    def feed(self, text: str) -> str:
        """Take the next piece of content; return what may be sent now."""
        s = self._tail + text
        self._tail = ""
        while s:
            if self._in_think:
                i = s.find(CLOSE_TAG)
                if i < 0:
                    k = _partial_tag_suffix(s, (CLOSE_TAG,))
                    self.reasoning.add(s[: len(s) - k])
                    self._tail = s[len(s) - k :]
                    break
                self.reasoning.add(s[:i])
                s = s[i + len(CLOSE_TAG) :]
                self._drop_held()  # text before the region is reasoning too: last-tag rule
                self._in_think = False
                self._lstrip = True
                continue
            i_close = s.find(CLOSE_TAG)
            i_open = s.find(OPEN_TAG)
            if i_close < 0 and i_open < 0:
                k = _partial_tag_suffix(s, _TAGS)
                self._hold(s[: len(s) - k])
                self._tail = s[len(s) - k :]
                break
            self.removed = True
            if i_open < 0 or 0 <= i_close < i_open:
                self._hold(s[:i_close])
                self._drop_held()  # a closing tag with no opening one: all before it was reasoning
                s = s[i_close + len(CLOSE_TAG) :]
                self._lstrip = True
            else:
                self._hold(s[:i_open])
                s = s[i_open + len(OPEN_TAG) :]
                self._in_think = True  # held text waits: a closing tag would make it reasoning
        if not self._in_think and self.hold_chars is not None and len(self._held) > self.hold_chars:
            out, self._held = self._held, ""
            return out
        return ""

    def finish(self) -> str:
        """End of the text: release what is answer, drop what is reasoning."""
        if self._in_think:
            self.reasoning.add(self._tail)  # an unclosed region (e.g. max_tokens hit mid-thought)
        else:
            self._hold(self._tail)
        self._tail = ""
        out, self._held = self._held, ""
        return out


def strip_think(text: str, implicit_open: bool = False) -> tuple[str, str]:
    """(answer, reasoning) of a whole text, by the last-closing-tag rule."""
    f = ThinkTagFilter(implicit_open=implicit_open, hold_chars=None)
    answer = f.feed(text) + f.finish()
    return answer, f.reasoning.text()


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def extractive_summary(reasoning: str, max_chars: int = 280) -> str:
    """First and last sentences of the reasoning, capped: a hint of the approach, not the work."""
    sentences = [s.strip() for s in _SENTENCE_END.split(" ".join(reasoning.split())) if s.strip()]
    if not sentences:
        return ""
    picked = sentences[0] if len(sentences) == 1 else f"{sentences[0]} … {sentences[-1]}"
    if len(picked) > max_chars:
        cut = picked[: max(0, max_chars - 1)]
        picked = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
    return picked


class RemoteSummarizer:
    """Asks an OpenAI-compatible chat endpoint for a summary, off the response path.

    The transform hooks are synchronous, so the call runs as a task started when a
    choice's reasoning is complete; if it has not answered by the time the summary must be
    sent, the extractive summary is used instead.
    """

    def __init__(self, url: str, model: str = "", timeout_s: float = 2.0, max_chars: int = 280) -> None:
        self.url = url
        self.model = model
        self.timeout_s = timeout_s
        self.max_chars = max_chars

    async def summarize(self, reasoning: str) -> str:
        import aiohttp

        payload = {
            "model": self.model or "summarizer",
            "messages": [
                {
                    "role": "system",
                    "content": f"Summarize the approach of this reasoning in at most {self.max_chars} "
                    "characters. Do not reproduce steps, calculations or code.",
                },
                {"role": "user", "content": reasoning},
            ],
            "max_tokens": max(16, self.max_chars // 3),
            "stream": False,
        }
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(self.url, json=payload) as r,
        ):
            r.raise_for_status()
            data = await r.json()
        text = str(data["choices"][0]["message"]["content"] or "").strip()
        return text[: self.max_chars]

    def start(self, reasoning: str) -> asyncio.Task[str] | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        task = loop.create_task(self.summarize(reasoning))
        task.add_done_callback(_consume_error)  # an abandoned stream must not log "never retrieved"
        return task


def _consume_error(task: asyncio.Task[str]) -> None:
    if not task.cancelled():
        task.exception()


class _Summary:
    """One pending summary: the remote one if it is ready in time, else extractive."""

    def __init__(self, buffer: ReasoningBuffer, max_chars: int, remote: RemoteSummarizer | None) -> None:
        self.buffer = buffer
        self.max_chars = max_chars
        self.remote = remote
        self.task: asyncio.Task[str] | None = None
        self.used_fallback = False

    def start(self) -> None:
        if self.remote is not None and self.task is None and self.buffer.total:
            self.task = self.remote.start(self.buffer.text())

    def text(self) -> str:
        if self.task is not None:
            if self.task.done() and not self.task.cancelled() and self.task.exception() is None:
                result = self.task.result()
                if result:
                    return result
            elif not self.task.done():
                self.task.cancel()
        self.used_fallback = self.remote is not None
        return extractive_summary(self.buffer.text(), self.max_chars)


class _ChoiceState:
    __slots__ = ("buffer", "field", "filter", "finished", "summary")

    def __init__(self, params: dict[str, Any], remote: RemoteSummarizer | None) -> None:
        self.buffer = ReasoningBuffer()
        self.filter = ThinkTagFilter(
            implicit_open=bool(params["implicit_open"]),
            hold_chars=int(params["hold_chars"]),
            reasoning=self.buffer,
        )
        self.summary = _Summary(self.buffer, int(params["max_summary_chars"]), remote)
        self.finished = False
        self.field = "content"


_EMPTY_DELTA_KEYS = frozenset({"content"})


class ReasoningTransform:
    """A `ResponseTransform` for one response (OpenAI or Anthropic flavour)."""

    def __init__(
        self,
        flavor: str,
        params: dict[str, Any],
        remote: RemoteSummarizer | None = None,
        on_reason: Callable[[str], None] | None = None,
    ) -> None:
        self.flavor = flavor
        self.params = params
        self.summarize = params["mode"] == "summarize"
        self.remote = remote if self.summarize else None
        self._on_reason = on_reason
        self._reported: set[str] = set()
        # OpenAI streaming
        self._choices: dict[int, _ChoiceState] = {}
        self._template: dict[str, Any] = {}
        # Anthropic streaming
        self._removed_blocks = 0  # blocks dropped so far: later indexes shift down by this
        self._blocks: dict[int, tuple[str, Any]] = {}  # original index -> (kind, state)

    # -- bookkeeping ------------------------------------------------------------------------
    def _reason(self, code: str) -> None:
        if code not in self._reported:
            self._reported.add(code)
            if self._on_reason is not None:
                self._on_reason(code)

    def _summary_of(self, buffer: ReasoningBuffer, summary: _Summary | None = None) -> str:
        summary = summary or _Summary(buffer, int(self.params["max_summary_chars"]), None)
        text = summary.text()
        if summary.used_fallback:
            self._reason("reasoning_summary_fallback")
        return text

    def _note_removed(self) -> None:
        self._reason("reasoning_summarized" if self.summarize else "reasoning_removed")

    # -- whole bodies ---------------------------------------------------------------------
    def transform_body(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.flavor == "anthropic":
            return self._anthropic_body(body)
        for choice in body.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            buffer = ReasoningBuffer()
            message = choice.get("message")
            target: dict[str, Any] = message if isinstance(message, dict) else choice
            key = "content" if isinstance(message, dict) else "text"  # chat, or legacy completions
            removed = False
            for name in REASONING_FIELDS:
                if name in target:
                    value = target.pop(name)
                    buffer.add(value if isinstance(value, str) else "")
                    removed = removed or value not in (None, "", [])
            text = target.get(key)
            if isinstance(text, str):
                f = ThinkTagFilter(bool(self.params["implicit_open"]), hold_chars=None, reasoning=buffer)
                target[key] = f.feed(text) + f.finish()
                if f.removed:
                    removed = True
                    choice["logprobs"] = None  # token logprobs would spell the reasoning out
            if removed:
                self._note_removed()
                if self.summarize and buffer.total:
                    target["reasoning_content"] = self._summary_of(buffer)
        return body

    def _anthropic_body(self, body: dict[str, Any]) -> dict[str, Any]:
        blocks = body.get("content")
        if not isinstance(blocks, list):
            return body
        kept: list[Any] = []
        for block in blocks:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind in ("thinking", "redacted_thinking"):
                self._note_removed()
                if self.summarize and kind == "thinking":
                    buffer = ReasoningBuffer()
                    buffer.add(str(block.get("thinking") or ""))
                    kept.append({"type": "thinking", "thinking": self._summary_of(buffer), "signature": ""})
                continue
            if kind == "text" and isinstance(block.get("text"), str):
                answer, _ = strip_think(block["text"], bool(self.params["implicit_open"]))
                if answer != block["text"]:
                    self._note_removed()
                block["text"] = answer
            kept.append(block)
        body["content"] = kept
        return body

    # -- streams --------------------------------------------------------------------------
    def transform_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        if self.flavor == "anthropic":
            return self._anthropic_event(event)
        return self._openai_chunk(event)

    def finish(self) -> list[dict[str, Any]]:
        if self.flavor == "anthropic":
            # Text blocks flush at their content_block_stop; one still open here was cut off.
            flushed: list[dict[str, Any]] = []
            for index, (what, state) in sorted(self._blocks.items()):
                if what == "text":
                    tail = state.finish()
                    if tail:
                        text_delta = {"type": "text_delta", "text": tail}
                        flushed.append(
                            {
                                "type": "content_block_delta",
                                "index": index - self._removed_blocks,
                                "delta": text_delta,
                            }
                        )
            self._blocks.clear()
            return flushed
        out: list[dict[str, Any]] = []
        for index, state in sorted(self._choices.items()):
            if state.finished:
                continue
            delta: dict[str, Any] = {}
            tail = state.filter.finish()
            if tail:
                delta[state.field] = tail
            if self.summarize and state.buffer.total:
                delta["reasoning_content"] = self._summary_of(state.buffer, state.summary)
            state.finished = True
            if delta:
                chunk = {k: v for k, v in self._template.items() if k != "usage"}
                if state.field == "text":
                    chunk["choices"] = [{"index": index, "text": tail, "finish_reason": None}]
                else:
                    chunk["choices"] = [{"index": index, "delta": delta, "finish_reason": None}]
                out.append(chunk)
        return out

    def _choice(self, index: int) -> _ChoiceState:
        state = self._choices.get(index)
        if state is None:
            state = self._choices[index] = _ChoiceState(self.params, self.remote)
        return state

    def _openai_chunk(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices:
            return [chunk]  # usage-only chunks and the like
        if not self._template:
            self._template = {k: v for k, v in chunk.items() if k in ("id", "object", "created", "model")}
        keep = chunk.get("usage") is not None
        for choice in choices:
            if not isinstance(choice, dict):
                keep = True
                continue
            state = self._choice(int(choice.get("index") or 0))
            delta = choice.get("delta")
            if isinstance(delta, dict):
                target, key = delta, "content"
            else:
                target, key = choice, "text"  # legacy completions
                state.field = "text"
            for name in REASONING_FIELDS:
                if name in target:
                    value = target.pop(name)
                    if isinstance(value, str):
                        state.buffer.add(value)
                    if value not in (None, "", []):
                        self._note_removed()
            text = target.get(key)
            if isinstance(text, str):
                out = state.filter.feed(text)
                if out != text:
                    choice["logprobs"] = None
                target[key] = out
                if out:
                    state.summary.start()  # reasoning is over once the answer flows
            if state.filter.removed:
                self._note_removed()
            if choice.get("finish_reason") is not None and not state.finished:
                tail = state.filter.finish()
                if tail:
                    target[key] = (target.get(key) or "") + tail
                if self.summarize and state.buffer.total and key == "content":
                    target["reasoning_content"] = self._summary_of(state.buffer, state.summary)
                state.finished = True
            if target is delta:
                if set(delta) - _EMPTY_DELTA_KEYS or delta.get("content"):
                    keep = True
            elif choice.get("text"):
                keep = True
            if choice.get("finish_reason") is not None or choice.get("logprobs"):
                keep = True
        return [chunk] if keep else []

    def _anthropic_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        kind = event.get("type")
        index = event.get("index")
        if kind == "content_block_start" and isinstance(index, int):
            block = event.get("content_block") or {}
            block_type = block.get("type")
            if block_type in ("thinking", "redacted_thinking"):
                self._note_removed()
                buffer = ReasoningBuffer()
                buffer.add(str(block.get("thinking") or ""))
                if self.summarize and block_type == "thinking":
                    self._blocks[index] = ("summarize", buffer)
                else:
                    self._blocks[index] = ("drop", buffer)
                return []
            if block_type == "text":
                text_filter = ThinkTagFilter(
                    bool(self.params["implicit_open"]), int(self.params["hold_chars"])
                )
                self._blocks[index] = ("text", text_filter)
                first = block.get("text")
                if isinstance(first, str) and first:
                    block["text"] = text_filter.feed(first)
            else:
                self._blocks[index] = ("pass", None)
            event["index"] = index - self._removed_blocks
            return [event]
        if kind in ("content_block_delta", "content_block_stop") and isinstance(index, int):
            what, state = self._blocks.get(index, ("pass", None))
            new_index = index - self._removed_blocks
            if what in ("drop", "summarize"):
                delta = event.get("delta") or {}
                if delta.get("type") == "thinking_delta":
                    state.add(str(delta.get("thinking") or ""))
                if kind == "content_block_delta":
                    return []
                del self._blocks[index]
                if what == "drop":
                    self._removed_blocks += 1
                    return []
                summary = self._summary_of(state)
                return [
                    {
                        "type": "content_block_start",
                        "index": new_index,
                        "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                    },
                    {
                        "type": "content_block_delta",
                        "index": new_index,
                        "delta": {"type": "thinking_delta", "thinking": summary},
                    },
                    {
                        "type": "content_block_delta",
                        "index": new_index,
                        "delta": {"type": "signature_delta", "signature": ""},
                    },
                    {"type": "content_block_stop", "index": new_index},
                ]
            event["index"] = new_index
            if what == "text":
                if kind == "content_block_delta":
                    delta = event.get("delta") or {}
                    if delta.get("type") == "text_delta" and isinstance(delta.get("text"), str):
                        out = state.feed(delta["text"])
                        if state.removed:
                            self._note_removed()
                        if not out:
                            return []
                        delta["text"] = out
                    return [event]
                tail = state.finish()
                del self._blocks[index]
                if tail:
                    flush = {
                        "type": "content_block_delta",
                        "index": new_index,
                        "delta": {"type": "text_delta", "text": tail},
                    }
                    return [flush, event]
            return [event]
        return [event]


class ReasoningPlugin(Plugin):
    """Attaches a `ReasoningTransform` when the decision (or the product setting) says so."""

    name = "reasoning"

    def __init__(self, summarizer_factory: Callable[[dict[str, Any]], RemoteSummarizer | None] | None = None):
        self._summarizer_factory = summarizer_factory or _default_summarizer

    def response_transform(self, ctx: RequestContext) -> ResponseTransform | None:
        decision = decision_of(ctx)
        if decision is None or not decision.acts("protect_reasoning"):
            return None
        params = dict(decision.params_for("protect_reasoning"))
        reasons = ctx.event.reasons
        return ReasoningTransform(ctx.flavor, params, self._summarizer_factory(params), reasons.append)


def _default_summarizer(params: dict[str, Any]) -> RemoteSummarizer | None:
    url = str(params.get("summarizer_url") or "")
    if params.get("mode") != "summarize" or not url:
        return None
    return RemoteSummarizer(
        url,
        model=str(params.get("summarizer_model") or ""),
        timeout_s=float(params.get("summarizer_timeout_s") or 2.0),
        max_chars=int(params.get("max_summary_chars") or 280),
    )
