"""The metering proxy against a fake upstream API on 127.0.0.1."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from cs_proxy.apis import AnthropicMessages
from cs_proxy.server import ProxyConfig, ProxyServer
from cs_proxy.sse import Event, EventReader
from tests.plugins.fake_upstream import (
    SSE,
    Answer,
    FakeUpstream,
    anthropic_message,
    anthropic_stream,
    chat_completion,
    chat_stream,
    json_answer,
    response_object,
    responses_stream,
)

SECRET = "sk-test-SECRET"
PROMPT = "PROMPT-TEXT-XYZZY"
ANSWER_TEXT = "ANSWER-TEXT-PLUGH"

SONNET_USAGE = {
    "input_tokens": 10000,
    "output_tokens": 5000,
    "cache_read_input_tokens": 0,
    "cache_creation_input_tokens": 0,
}
SONNET_CACHED_START = {
    "input_tokens": 10000,
    "cache_read_input_tokens": 2000,
    "cache_creation_input_tokens": 1500,
    "cache_creation": {
        "ephemeral_5m_input_tokens": 1000,
        "ephemeral_1h_input_tokens": 500,
    },
    "output_tokens": 1,
}
GPT4O_USAGE = {
    "prompt_tokens": 5000,
    "completion_tokens": 1500,
    "total_tokens": 6500,
    "prompt_tokens_details": {"cached_tokens": 1000},
    "completion_tokens_details": {"reasoning_tokens": 0},
}
O4_MINI_USAGE = {
    "prompt_tokens": 2000,
    "completion_tokens": 3000,
    "total_tokens": 5000,
    "prompt_tokens_details": {"cached_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 2500},
}
RESPONSES_USAGE = {
    "input_tokens": 5000,
    "input_tokens_details": {"cached_tokens": 1000},
    "output_tokens": 1500,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 6500,
}


def anthropic_request(stream: bool = False) -> dict:
    return {
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": PROMPT}],
    }


def chat_request(model: str, stream: bool = False, usage: bool = True) -> dict:
    request = {"model": model, "messages": [{"role": "user", "content": PROMPT}]}
    if stream:
        request["stream"] = True
        if usage:
            request["stream_options"] = {"include_usage": True}
    return request


def responses_request(stream: bool = False) -> dict:
    return {"model": "gpt-4o", "input": PROMPT, "stream": stream}


def expected(provider, model, requested, prompt, completion, cost, tokens, **extra):
    return {
        "provider": provider,
        "model": model,
        "modelRequested": requested,
        "promptTokens": prompt,
        "completionTokens": completion,
        "cacheReadTokens": extra.get("cache_read", 0),
        "cacheWriteTokens": extra.get("cache_write", 0),
        "cacheWrite1hTokens": extra.get("cache_write_1h", 0),
        "reasoningTokens": extra.get("reasoning", 0),
        "cost": cost,
        "tokens": tokens,
    }


CASES = [
    pytest.param(
        "/v1/messages",
        anthropic_request(),
        json_answer(anthropic_message(SONNET_USAGE)),
        expected("anthropic", "claude-sonnet-4", "claude-sonnet-4-20250514",
                 10000, 5000, 0.105, 15000),
        "msg_01AbCdEf",
        id="anthropic-json",
    ),
    pytest.param(
        "/v1/messages",
        anthropic_request(stream=True),
        anthropic_stream(SONNET_CACHED_START, {"output_tokens": 5000}),
        # 10000*3 + 5000*15 + 2000*0.3 + 1000*3.75 + 500*6, per million
        expected("anthropic", "claude-sonnet-4", "claude-sonnet-4-20250514",
                 10000, 5000, 0.11235, 18500, cache_read=2000, cache_write=1000,
                 cache_write_1h=500),
        "msg_01AbCdEf",
        id="anthropic-stream-cache",
    ),
    pytest.param(
        "/v1/chat/completions",
        chat_request("gpt-4o"),
        json_answer(chat_completion("gpt-4o-2024-08-06", GPT4O_USAGE)),
        # 4000*2.5 + 1000*1.25 + 1500*10, per million
        expected("openai", "gpt-4o", "gpt-4o-2024-08-06", 5000, 1500, 0.02625, 6500,
                 cache_read=1000),
        "chatcmpl-XyZ123",
        id="chat-json-cache",
    ),
    pytest.param(
        "/v1/chat/completions",
        chat_request("gpt-4o", stream=True),
        chat_stream("gpt-4o-2024-08-06", GPT4O_USAGE),
        expected("openai", "gpt-4o", "gpt-4o-2024-08-06", 5000, 1500, 0.02625, 6500,
                 cache_read=1000),
        "chatcmpl-XyZ123",
        id="chat-stream-usage",
    ),
    pytest.param(
        "/v1/chat/completions",
        chat_request("o4-mini", stream=True),
        chat_stream("o4-mini-2025-04-16", O4_MINI_USAGE),
        # reasoning is inside completion: 2000*1.1 + 3000*4.4, per million
        expected("openai", "o4-mini", "o4-mini-2025-04-16", 2000, 3000, 0.0154, 5000,
                 reasoning=2500),
        "chatcmpl-XyZ123",
        id="chat-stream-reasoning",
    ),
    pytest.param(
        "/v1/responses",
        responses_request(),
        json_answer(response_object(RESPONSES_USAGE, "completed")),
        expected("openai", "gpt-4o", "gpt-4o-2024-08-06", 5000, 1500, 0.02625, 6500,
                 cache_read=1000),
        "resp_0123abc",
        id="responses-json",
    ),
    pytest.param(
        "/v1/responses",
        responses_request(stream=True),
        responses_stream(RESPONSES_USAGE),
        expected("openai", "gpt-4o", "gpt-4o-2024-08-06", 5000, 1500, 0.02625, 6500,
                 cache_read=1000),
        "resp_0123abc",
        id="responses-stream",
    ),
]  # fmt: skip


@pytest.fixture
def upstream():
    with FakeUpstream() as fake:
        yield fake


@pytest.fixture
def session(run_cs, git_repo):
    return run_cs("start", "proxy test", "--json", cwd=git_repo).json


def make_proxy(upstream: FakeUpstream, cwd: Path, **config) -> ProxyServer:
    server = ProxyServer(
        ProxyConfig(
            anthropic_upstream=upstream.url,
            openai_upstream=upstream.url,
            cwd=str(cwd),
            announce=False,
            **config,
        )
    )
    server.start(config.pop("session_id", None))
    return server


@pytest.fixture
def proxy(upstream, git_repo):
    server = make_proxy(upstream, git_repo)
    yield server
    server.stop()


def post(proxy: ProxyServer, path: str, body: dict, **headers: str) -> httpx.Response:
    auth = {"x-api-key": SECRET, "authorization": f"Bearer {SECRET}"}
    return httpx.post(
        proxy.url + path, json=body, headers={**auth, **headers}, timeout=10
    )


def calls(run_cs, session_id: int) -> list[dict]:
    return run_cs("show", str(session_id), "--json").json["aiUsage"]


def pick(call: dict, keys) -> dict:
    return {key: call[key] for key in keys}


@pytest.mark.parametrize(("path", "body", "answer", "want", "response_id"), CASES)
def test_call_is_relayed_unchanged_and_logged_exactly(
    upstream, proxy, session, run_cs, path, body, answer, want, response_id
):
    upstream.answers[path] = answer

    response = post(proxy, path, body)
    proxy.stop()  # waits for the call in flight to be logged

    assert response.status_code == 200
    assert response.content == answer.body
    assert response.headers["content-type"] == answer.content_type
    assert response.headers["request-id"] == "req_fake_123"
    [seen] = upstream.seen
    assert seen.path == path
    assert seen.headers["x-api-key"] == SECRET
    assert seen.headers["authorization"] == f"Bearer {SECRET}"
    assert seen.body == httpx.Request("POST", "/", json=body).content
    [call] = calls(run_cs, session["id"])
    assert pick(call, want) == want
    assert call["costSource"] == "built-in"


def test_no_key_prompt_or_answer_reaches_the_database(
    upstream, proxy, session, run_cs, cs_home
):
    for path, body, answer, *_ in (case.values for case in CASES):
        upstream.answers[path] = answer
        post(proxy, path, body)
    proxy.stop()

    # the cases share three response ids, and each id is logged once
    assert len(calls(run_cs, session["id"])) == 3
    stored = b"".join(path.read_bytes() for path in cs_home.glob("sessions.db*"))
    assert b"claude-sonnet-4" in stored
    for secret in (SECRET, "sk-test", PROMPT, ANSWER_TEXT):
        assert secret.encode() not in stored


def test_stream_chunks_arrive_before_the_stream_ends(upstream, proxy, session):
    gate = threading.Event()
    answer = anthropic_stream(SONNET_USAGE, {"output_tokens": 5000})
    answer.chunks.insert(4, gate)  # after message_start, hold the rest back
    upstream.answers["/v1/messages"] = answer

    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST", proxy.url + "/v1/messages", json=anthropic_request(stream=True)
        ) as response,
    ):
        chunks = response.iter_raw()
        first = next(chunks)
        released_after_first = not gate.is_set()
        gate.set()
        rest = b"".join(chunks)

    assert released_after_first
    assert first.startswith(b"event: message_start")
    assert first + rest == answer.body


@pytest.mark.parametrize(
    ("status", "document"),
    [
        (401, {"type": "error", "error": {"type": "authentication_error",
                                          "message": "invalid x-api-key"}}),
        (529, {"type": "error", "error": {"type": "overloaded_error",
                                          "message": "Overloaded"}}),
    ],
    ids=["unauthorized", "overloaded"],
)  # fmt: skip
def test_upstream_error_is_passed_back_and_not_logged(
    upstream, proxy, session, run_cs, status, document
):
    upstream.answers["/v1/messages"] = json_answer(document, status)

    response = post(proxy, "/v1/messages", anthropic_request())
    proxy.stop()

    assert response.status_code == status
    assert response.content == upstream.answers["/v1/messages"].body
    assert calls(run_cs, session["id"]) == []


@pytest.mark.parametrize(
    ("path", "body", "answer", "model"),
    [
        (
            "/v1/chat/completions",
            chat_request("gpt-4o", stream=True, usage=False),
            chat_stream("gpt-4o-2024-08-06", None),
            "gpt-4o",
        ),
        (
            "/v1/messages",
            anthropic_request(),
            Answer(200, "application/json", [b"not json at all"]),
            "claude-sonnet-4",
        ),
        (
            "/v1/messages",
            anthropic_request(stream=True),
            Answer(200, SSE, [b'event: message_start\ndata: {"broken\n\n']),
            "claude-sonnet-4",
        ),
    ],
    ids=["stream-without-include-usage", "unreadable-json", "broken-stream"],
)
def test_call_without_readable_usage_is_logged_unpriced(
    upstream, proxy, session, run_cs, path, body, answer, model
):
    upstream.answers[path] = answer

    response = post(proxy, path, body)
    proxy.stop()

    assert response.content == answer.body
    [call] = calls(run_cs, session["id"])
    assert (call["model"], call["cost"], call["priced"]) == (model, None, False)
    assert call["costSource"] is None
    status = run_cs("status", "-s", str(session["id"]), "--json").json
    assert (status["aiCost"], status["unpricedCalls"]) == (0.0, 1)


@pytest.mark.parametrize(
    ("path", "cache"),
    [
        ("/chat/completions", {"prompt_tokens_details": {"cached_tokens": 200}}),
        ("/v1/chat/completions", {"prompt_tokens_details": {"cached_tokens": 200}}),
        ("/chat/completions", {"prompt_cache_hit_tokens": 200,
                               "prompt_cache_miss_tokens": 800}),
    ],
    ids=["no-version-prefix", "v1", "deepseek-cache-keys"],
)  # fmt: skip
def test_openai_provider_names_compatible_apis(
    upstream, git_repo, session, run_cs, path, cache
):
    usage = {"prompt_tokens": 1000, "completion_tokens": 500, **cache}
    upstream.answers[path] = json_answer(chat_completion("deepseek-chat", usage))
    server = make_proxy(upstream, git_repo, openai_provider="deepseek")

    post(server, path, chat_request("deepseek-chat"))
    server.stop()

    [call] = calls(run_cs, session["id"])
    # 800*0.28 + 200*0.028 + 500*0.42, per million
    assert (call["provider"], call["model"], call["cost"]) == (
        "deepseek",
        "deepseek-chat",
        0.0004396,
    )


def test_same_response_id_is_logged_once(upstream, proxy, session, run_cs):
    upstream.answers["/v1/messages"] = json_answer(anthropic_message(SONNET_USAGE))

    post(proxy, "/v1/messages", anthropic_request())
    post(proxy, "/v1/messages", anthropic_request())
    proxy.stop()

    assert len(calls(run_cs, session["id"])) == 1


def test_call_is_logged_into_the_given_session(upstream, tmp_path, run_cs, git_repo):
    started = run_cs("start", "named", "--json", cwd=git_repo).json
    upstream.answers["/v1/messages"] = json_answer(anthropic_message(SONNET_USAGE))
    server = make_proxy(upstream, tmp_path, session_id=started["id"])

    post(server, "/v1/messages", anthropic_request())
    server.stop()

    assert [c["cost"] for c in calls(run_cs, started["id"])] == [0.105]


def test_without_a_session_the_call_passes_and_is_not_logged(
    upstream, proxy, run_cs, git_repo, capfd
):
    upstream.answers["/v1/messages"] = json_answer(anthropic_message(SONNET_USAGE))

    response = post(proxy, "/v1/messages", anthropic_request())
    proxy.stop()

    assert response.status_code == 200
    assert "call not logged: no active session" in capfd.readouterr().err
    assert run_cs("list", "--json").json == []


def test_other_paths_are_forwarded_without_logging(upstream, proxy, session, run_cs):
    upstream.answers["/v1/models"] = json_answer({"data": [{"id": "gpt-4o"}]})

    response = httpx.get(proxy.url + "/v1/models?limit=5", timeout=10)
    proxy.stop()

    assert response.json() == {"data": [{"id": "gpt-4o"}]}
    assert upstream.seen[0].path == "/v1/models?limit=5"
    assert calls(run_cs, session["id"]) == []


def test_unreachable_upstream_is_a_502(git_repo, session):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    server = ProxyServer(
        ProxyConfig(
            anthropic_upstream=f"http://127.0.0.1:{closed_port}", cwd=str(git_repo)
        )
    )
    server.start()

    response = httpx.post(server.url + "/v1/messages", json=anthropic_request())
    server.stop()

    assert response.status_code == 502
    assert response.json()["error"]["type"] == "proxy_error"


def test_port_in_use_is_reported_before_a_session_starts(run_cs, git_repo):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]

        result = run_cs(
            "proxy", "--port", str(port), "--name", "x", "--json", cwd=git_repo
        )

    assert result.exit_code == 1
    assert result.json["error"]["code"] == "port_in_use"
    assert result.json["error"]["port"] == port
    assert run_cs("list", "--json").json == []


def test_sse_reader_handles_any_chunking():
    stream = (
        b"event: a\r\ndata: 1\r\n\r\nevent: b\ndata: 2\ndata: 3\n\ndata: [DONE]\n\n"
    )
    reader = EventReader()

    events = [e for i in range(len(stream)) for e in reader.feed(stream[i : i + 1])]

    assert events == [Event("a", "1"), Event("b", "2\n3"), Event(None, "[DONE]")]


def test_anthropic_delta_total_does_not_override_the_cache_split():
    meter = AnthropicMessages()
    meter.read_event(
        Event("message_start", '{"message": {"id": "msg_1", "model": "m", "usage": '
              '{"input_tokens": 5, "cache_creation_input_tokens": 30, "cache_creation":'
              ' {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20}}}}')
    )  # fmt: skip
    meter.read_event(
        Event("message_delta", '{"usage": {"output_tokens": 7,'
              ' "cache_creation_input_tokens": 30}}')
    )  # fmt: skip

    reading = meter.reading
    assert (reading.cache_write_tokens, reading.cache_write_1h_tokens) == (10, 20)
    assert (reading.prompt_tokens, reading.completion_tokens) == (5, 7)
    assert reading.complete


def test_proxy_command_logs_into_its_session_and_ends_it_on_ctrl_c(
    upstream, git_repo, run_cs
):
    upstream.answers["/v1/messages"] = json_answer(anthropic_message(SONNET_USAGE))
    process = subprocess.Popen(
        [sys.executable, "-m", "cs_core", "proxy", "--port", "0", "--name", "proxied",
         "--anthropic-upstream", upstream.url, "--json"],
        cwd=git_repo,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )  # fmt: skip
    assert process.stdout is not None
    started = json.loads(process.stdout.readline())

    response = httpx.post(
        started["url"] + "/v1/messages", json=anthropic_request(), timeout=10
    )
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert response.status_code == 200
    assert process.returncode == 0, err
    assert started["openaiBaseUrl"] == started["url"] + "/v1"
    assert out == ""
    assert "cs proxy: logged anthropic/claude-sonnet-4, 15,000 tokens, $0.105" in err
    assert "Session #1 'proxied' ended after" in err
    shown = run_cs("show", str(started["sessionId"]), "--json").json
    assert shown["status"] == "completed"
    assert [c["cost"] for c in shown["aiUsage"]] == [0.105]


def test_stream_cut_short_keeps_the_counts_read_and_an_unknown_cost(
    upstream, proxy, session, run_cs
):
    answer = anthropic_stream(SONNET_USAGE, {"output_tokens": 5000})
    del answer.chunks[2:]  # only message_start arrives
    upstream.answers["/v1/messages"] = answer

    response = post(proxy, "/v1/messages", anthropic_request(stream=True))
    proxy.stop()

    assert response.content == answer.body
    [call] = calls(run_cs, session["id"])
    assert (call["promptTokens"], call["completionTokens"]) == (10000, 5000)
    assert (call["cost"], call["priced"], call["rates"]["inputPer1M"]) == (
        None,
        False,
        None,
    )
    status = run_cs("status", "-s", str(session["id"]), "--json").json
    assert (status["aiCost"], status["unpricedCalls"]) == (0.0, 1)


def test_listening_socket_is_tcp_so_nagle_is_off(proxy):
    # asyncio disables Nagle only on sockets whose protocol says TCP; without it
    # each keep-alive answer waited ~40 ms for the client's delayed ACK.
    assert proxy.socket.proto == socket.IPPROTO_TCP


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        ("https://api.example.test", "/v1/messages", "https://api.example.test/v1/messages"),
        ("https://api.example.test/", "/chat/completions",
         "https://api.example.test/chat/completions"),
        ("https://api.example.test/v1", "/v1/chat/completions",
         "https://api.example.test/v1/chat/completions"),
        ("https://gw.example.test/proxy", "/v1/responses",
         "https://gw.example.test/proxy/v1/responses"),
    ],
    ids=["plain", "trailing-slash", "v1-in-both", "base-path"],
)  # fmt: skip
def test_upstream_url_joins_base_and_path(base, path, url):
    config = ProxyConfig(anthropic_upstream=base, openai_upstream=base)

    assert config.upstream_url("openai", path, b"") == url
    assert config.upstream_url("anthropic", path, b"a=1") == f"{url}?a=1"
