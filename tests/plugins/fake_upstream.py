"""A fake model API on 127.0.0.1 that answers like Anthropic's and OpenAI's.

Each canned answer is a status, headers and a list of body chunks, written one
by one with a flush; a `threading.Event` among the chunks makes the server wait
until the test sets it, so a test can prove chunks arrive before the stream ends.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SSE = "text/event-stream"
JSON = "application/json"


@dataclass
class Answer:
    """One canned answer."""

    status: int = 200
    content_type: str = JSON
    chunks: list[Any] = field(default_factory=list)

    @property
    def body(self) -> bytes:
        return b"".join(c for c in self.chunks if isinstance(c, bytes))


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeUpstream:
    """Serves canned answers by path and records every request."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.seen: list[Seen] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection does

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                fake.seen.append(
                    Seen("POST", self.path, dict(self.headers.items()), body)
                )
                fake.respond(self, fake.answers.get(self.path.split("?")[0]))

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def respond(self, handler: BaseHTTPRequestHandler, answer: Answer | None) -> None:
        answer = answer or Answer(404, JSON, [b'{"error": "no such path"}'])
        handler.send_response(answer.status)
        handler.send_header("content-type", answer.content_type)
        handler.send_header("request-id", "req_fake_123")
        if answer.content_type == JSON:
            handler.send_header("content-length", str(len(answer.body)))
        handler.end_headers()
        for chunk in answer.chunks:
            if isinstance(chunk, threading.Event):
                chunk.wait(10)
                continue
            handler.wfile.write(chunk)
            handler.wfile.flush()

    def __enter__(self) -> "FakeUpstream":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_answer(document: dict[str, Any], status: int = 200) -> Answer:
    """An answer with a JSON body."""
    return Answer(status, JSON, [json.dumps(document).encode()])


def sse_answer(events: list[tuple[str | None, Any]], **kw: Any) -> Answer:
    """A stream of `(event name, data)`; data that is not a str is JSON-encoded.

    Each event is split in two chunks at an awkward place, as networks do.
    """
    chunks: list[Any] = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        head = f"event: {name}\n" if name else ""
        raw = f"{head}data: {text}\n\n".encode()
        chunks += [raw[: len(raw) // 2], raw[len(raw) // 2 :]]
    return Answer(200, SSE, chunks, **kw)


# --- Anthropic Messages -------------------------------------------------------


def anthropic_message(
    usage: dict[str, Any], response_id: str = "msg_01AbCdEf"
) -> dict[str, Any]:
    return {
        "id": response_id,
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-20250514",
        "content": [{"type": "text", "text": "ANSWER-TEXT-PLUGH"}],
        "stop_reason": "end_turn",
        "usage": usage,
    }


def anthropic_stream(
    start_usage: dict[str, Any],
    end_usage: dict[str, Any],
    response_id: str = "msg_01AbCdEf",
) -> Answer:
    message = anthropic_message(start_usage, response_id)
    message["content"] = []
    return sse_answer(
        [
            ("message_start", {"type": "message_start", "message": message}),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0,
                 "content_block": {"type": "text", "text": ""}},
            ),
            ("ping", {"type": "ping"}),
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0,
                 "delta": {"type": "text_delta", "text": "ANSWER-TEXT-PLUGH"}},
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {"type": "message_delta",
                 "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                 "usage": end_usage},
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
    )  # fmt: skip


# --- OpenAI Chat Completions --------------------------------------------------


def chat_completion(model: str, usage: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-XyZ123",
        "object": "chat.completion",
        "created": 1767225600,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "ANSWER-TEXT-PLUGH"},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }


def chat_stream(model: str, usage: dict[str, Any] | None) -> Answer:
    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-XyZ123",
            "object": "chat.completion.chunk",
            "created": 1767225600,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **({"usage": None} if usage is not None else {}),
        }

    events: list[tuple[str | None, Any]] = [
        (None, chunk({"role": "assistant", "content": ""}, None)),
        (None, chunk({"content": "ANSWER-TEXT-PLUGH"}, None)),
        (None, chunk({}, "stop")),
    ]
    if usage is not None:
        events.append(
            (None, {"id": "chatcmpl-XyZ123", "object": "chat.completion.chunk",
                    "created": 1767225600, "model": model, "choices": [],
                    "usage": usage})
        )  # fmt: skip
    events.append((None, "[DONE]"))
    return sse_answer(events)


# --- OpenAI Responses ---------------------------------------------------------


def response_object(usage: dict[str, Any] | None, status: str) -> dict[str, Any]:
    return {
        "id": "resp_0123abc",
        "object": "response",
        "created_at": 1767225600,
        "status": status,
        "model": "gpt-4o-2024-08-06",
        "output": [
            {
                "type": "message",
                "id": "msg_out_1",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "ANSWER-TEXT-PLUGH",
                     "annotations": []}
                ],
            }
        ] if status == "completed" else [],
        "usage": usage,
    }  # fmt: skip


def responses_stream(usage: dict[str, Any]) -> Answer:
    return sse_answer(
        [
            ("response.created", {"type": "response.created",
                                  "response": response_object(None, "in_progress")}),
            ("response.output_text.delta", {"type": "response.output_text.delta",
                                            "delta": "ANSWER-TEXT-PLUGH"}),
            ("response.completed", {"type": "response.completed",
                                    "response": response_object(usage, "completed")}),
        ]
    )  # fmt: skip
