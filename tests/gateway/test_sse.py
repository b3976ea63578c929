from __future__ import annotations

import orjson

from distillguard.gateway.sse import SSEParser, encode_event

STREAM = (
    b'event: message_start\ndata: {"type":"message_start"}\n\n'
    b": a comment\n\n"
    b'event: ping\ndata: {"type": "ping"}\n\n'
    b"data: line one\ndata: line two\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    ("message_start", b'{"type":"message_start"}'),
    ("ping", b'{"type": "ping"}'),
    (None, b"line one\nline two"),
    (None, b"[DONE]"),
]


def test_frames_survive_any_split() -> None:
    for size in (1, 2, 3, 7, 64, len(STREAM)):
        parser = SSEParser()
        frames = []
        for i in range(0, len(STREAM), size):
            frames += parser.feed(STREAM[i : i + size])
        assert frames + parser.flush() == EXPECTED, size


def test_crlf_line_endings_split_between_cr_and_lf() -> None:
    crlf = STREAM.replace(b"\n", b"\r\n")
    parser = SSEParser()
    frames = []
    for i in range(0, len(crlf), 5):
        frames += parser.feed(crlf[i : i + 5])
    assert frames == EXPECTED


def test_unterminated_last_frame_is_flushed() -> None:
    parser = SSEParser()
    assert parser.feed(b'data: {"a": 1}') == []
    assert parser.flush() == [(None, b'{"a": 1}')]


def test_encode_event_names_anthropic_frames() -> None:
    frame = encode_event("anthropic", {"type": "content_block_stop", "index": 0})
    assert frame.startswith(b"event: content_block_stop\ndata: ")
    assert orjson.loads(SSEParser().feed(frame)[0][1]) == {"type": "content_block_stop", "index": 0}
    assert encode_event("openai", {"x": 1}) == b'data: {"x":1}\n\n'


def test_stream_terminator_detection_ignores_lookalike_text() -> None:
    from distillguard.gateway.app import _ends_anthropic_stream, _ends_openai_stream

    assert _ends_openai_stream(b'data: {"x":1}\n\ndata: [DONE]\n\n')
    assert _ends_openai_stream(b"data: [DONE]\n\n")
    assert not _ends_openai_stream(b'data: {"t":"say data: [DONE]\n\n')  # inside text, not a line
    stop = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    assert _ends_anthropic_stream(b"event: ping\ndata: {}\n\n" + stop)
    assert _ends_anthropic_stream(stop)
    lookalike = b'event: content_block_delta\ndata: {"delta":{"text":"event: message_stop"}}\n\n'
    assert not _ends_anthropic_stream(lookalike)
    assert not _ends_anthropic_stream(stop + b"event: ping\ndata: {}\n\n")


def test_data_payloads_fast_path_agrees_with_the_parser() -> None:
    from distillguard.gateway.sse import data_payloads

    plain = b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n'
    assert data_payloads(plain) == [d for _, d in SSEParser().feed(plain)]
    assert data_payloads(b'data: {"a":1}\n\ndata: {"cut') == [b'{"a":1}', b'{"cut']
    # Anything but single-line `data: ` frames is left to the parser.
    assert data_payloads(b"") == []
    for other in (
        STREAM,
        b"data: x\r\n\r\n",
        b"data:x\n\n",
        b": ping\n\ndata: x\n\n",
        b"data: a\n\n: ping\n\ndata: b\n\n",
        b"data: a\n\ndata:b\n\n",
        b"data: a\ndata: b\n\n",
        b"data: a\n\nevent: e\ndata: b\n\n",
        b"data: a\n\n\n",
    ):
        assert data_payloads(other) is None, other
