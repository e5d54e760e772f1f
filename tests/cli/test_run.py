"""`cs run`: a command in its own session, its SDK calls metered by the proxy."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.fake_upstream import (
    FakeUpstream,
    anthropic_message,
    anthropic_stream,
    chat_completion,
    chat_stream,
    json_answer,
    response_object,
)
from tests.plugins.test_proxy import (
    GPT4O_USAGE,
    RESPONSES_USAGE,
    SECRET,
    SONNET_CACHED_START,
    SONNET_USAGE,
)

ANTHROPIC_SCRIPT = f"""
import os
import anthropic

client = anthropic.Anthropic(api_key="{SECRET}", max_retries=0)
message = client.messages.create(
    model="claude-sonnet-4-20250514",
    max_tokens=100,
    messages=[{{"role": "user", "content": "PROMPT-TEXT-XYZZY"}}],
)
print("json:", message.content[0].text)
with client.messages.stream(
    model="claude-sonnet-4-20250514",
    max_tokens=100,
    messages=[{{"role": "user", "content": "PROMPT-TEXT-XYZZY"}}],
) as stream:
    print("stream:", stream.get_final_text())
print("base:", os.environ["ANTHROPIC_BASE_URL"])
print("session:", os.environ["CODESESSION_SESSION"])
open("notes.txt", "w").write("written by the agent\\n")
"""

OPENAI_SCRIPT = f"""
import os
import openai

client = openai.OpenAI(api_key="{SECRET}", max_retries=0)
messages = [{{"role": "user", "content": "PROMPT-TEXT-XYZZY"}}]
reply = client.chat.completions.create(model="gpt-4o", messages=messages)
print("chat:", reply.choices[0].message.content)
chunks = client.chat.completions.create(
    model="gpt-4o",
    messages=messages,
    stream=True,
    stream_options={{"include_usage": True}},
)
print("stream:", "".join(c.choices[0].delta.content or "" for c in chunks if c.choices))
response = client.responses.create(model="gpt-4o", input="PROMPT-TEXT-XYZZY")
print("responses:", response.output_text)
print("base:", os.environ["OPENAI_BASE_URL"], os.environ["OPENAI_API_BASE"])
"""


@pytest.fixture
def upstream():
    with FakeUpstream() as fake:
        yield fake


def cs(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cs_core", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def split_output(stdout: str) -> tuple[list[str], dict]:
    """The command's lines, then cs's JSON document on the last line."""
    *lines, document = stdout.strip().splitlines()
    return lines, json.loads(document)


def test_anthropic_sdk_script_ends_with_its_session(upstream, git_repo, tmp_path):
    upstream.answers["/v1/messages"] = json_answer(anthropic_message(SONNET_USAGE))
    script = tmp_path / "agent.py"
    script.write_text(ANTHROPIC_SCRIPT)
    streamed = anthropic_stream(SONNET_CACHED_START, {"output_tokens": 5000}, "msg_B")
    answers = iter([upstream.answers["/v1/messages"], streamed])
    upstream.respond = _in_turn(upstream.respond, answers)

    done = cs(
        "run", "--name", "sdk agent", "--anthropic-upstream", upstream.url, "--json",
        "--", sys.executable, str(script), cwd=git_repo,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    lines, document = split_output(done.stdout)
    assert lines[:2] == ["json: ANSWER-TEXT-PLUGH", "stream: ANSWER-TEXT-PLUGH"]
    assert lines[2].startswith("base: http://127.0.0.1:")
    assert lines[3] == f"session: {document['id']}"
    assert (document["name"], document["status"], document["endReason"]) == (
        "sdk agent",
        "completed",
        "ended",
    )
    assert [(c["model"], c["cost"]) for c in document["aiUsage"]] == [
        ("claude-sonnet-4", 0.105),
        ("claude-sonnet-4", 0.11235),
    ]
    assert document["aiCost"] == 0.21735
    assert [f["filePath"] for f in document["files"]] == ["notes.txt"]
    assert [s.headers["x-api-key"] for s in upstream.seen] == [SECRET, SECRET]


def test_openai_sdk_script_ends_with_its_session(upstream, git_repo, tmp_path):
    chat = chat_completion("gpt-4o-2024-08-06", GPT4O_USAGE)
    chat["id"] = "chatcmpl-first"
    answers = iter([json_answer(chat), chat_stream("gpt-4o-2024-08-06", GPT4O_USAGE)])
    upstream.respond = _in_turn(upstream.respond, answers, "/v1/chat/completions")
    upstream.answers["/v1/responses"] = json_answer(
        response_object(RESPONSES_USAGE, "completed")
    )
    script = tmp_path / "agent.py"
    script.write_text(OPENAI_SCRIPT)

    done = cs(
        "run", "--openai-upstream", upstream.url, "--json",
        "--", sys.executable, str(script), cwd=git_repo,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    lines, document = split_output(done.stdout)
    assert lines[:3] == [
        "chat: ANSWER-TEXT-PLUGH",
        "stream: ANSWER-TEXT-PLUGH",
        "responses: ANSWER-TEXT-PLUGH",
    ]
    base = lines[3].split()
    assert base[1] == base[2] and base[1].endswith("/v1")
    assert document["name"] == f"{sys.executable} {script}"
    assert [(c["provider"], c["model"], c["cost"]) for c in document["aiUsage"]] == [
        ("openai", "gpt-4o", 0.02625)
    ] * 3
    assert [s.path for s in upstream.seen] == [
        "/v1/chat/completions",
        "/v1/chat/completions",
        "/v1/responses",
    ]
    assert b'"include_usage":true' in upstream.seen[1].body


def _in_turn(respond, answers, path="/v1/messages"):
    """Answer `path` with the next answer each time."""

    def wrapper(handler, answer):
        if handler.path == path:
            answer = next(answers)
        return respond(handler, answer)

    return wrapper


def test_exit_code_is_the_commands_and_stdout_stays_clean(git_repo):
    done = cs(
        "run", "--", sys.executable, "-c", "import sys; sys.exit(3)", cwd=git_repo
    )

    assert done.returncode == 3
    assert done.stdout == ""
    assert "ended after" in done.stderr
    listed = json.loads(cs("list", "--json", cwd=git_repo).stdout)
    assert [(s["status"], s["endReason"]) for s in listed] == [("completed", "ended")]


def test_active_session_is_refused_unless_resumed(git_repo):
    started = json.loads(cs("start", "mine", "--json", cwd=git_repo).stdout)
    command = ("--", sys.executable, "-c", "pass")

    refused = cs("run", "--json", *command, cwd=git_repo)
    resumed = cs("run", "--resume", "--json", *command, cwd=git_repo)

    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["code"] == "session_active"
    assert resumed.returncode == 0
    document = json.loads(resumed.stdout)
    # the resumed session belongs to whoever started it, and stays active
    assert (document["id"], document["status"]) == (started["id"], "active")


@pytest.mark.parametrize(
    "command",
    [(), ("no-such-program-xyz",)],
    ids=["empty", "not-found"],
)
def test_bad_command_is_refused_before_any_session(git_repo, command):
    done = cs("run", "--json", "--", *command, cwd=git_repo)

    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["code"] == "invalid_input"
    assert json.loads(cs("list", "--json", cwd=git_repo).stdout) == []


CHILD = """
import signal, sys, time
def stop(signum, frame):
    print("child got", signal.Signals(signum).name, flush=True)
    sys.exit(7)
signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
time.sleep(60)
sys.exit(1)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["int", "term"])
def test_signals_are_relayed_to_the_command(git_repo, sig):
    process = subprocess.Popen(
        [sys.executable, "-m", "cs_core", "run", "--", sys.executable, "-c", CHILD],
        cwd=git_repo,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"

    process.send_signal(sig)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 7, err
    assert out == f"child got {sig.name}\n"
    listed = json.loads(cs("list", "--json", cwd=git_repo).stdout)
    assert [s["status"] for s in listed] == ["completed"]


def test_human_summary_names_the_session(git_repo):
    done = cs(
        "run", "--name", "tiny", "--", sys.executable, "-c", "print('hi')",
        cwd=git_repo,
    )  # fmt: skip

    assert done.returncode == 0
    assert done.stdout == "hi\n"
    assert done.stderr.startswith("Session #1 'tiny' ended after ")
    assert (
        "$0.00, 0 tokens in 0 call(s), 0 file(s) changed, 0 commit(s)." in done.stderr
    )
