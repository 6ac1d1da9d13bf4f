"""A real loopback HTTP server that speaks OpenAI's chat-completions protocol from a script."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NO_USAGE = object()  # Scripted(usage=NO_USAGE): a completion without a "usage" member


@dataclass
class Scripted:
    """One answer: the model's text (wrapped in a completion), or a raw status/body.

    `delay` waits before the headers; `trickle` sends the body one byte per that many
    seconds; `usage` replaces {"total_tokens": tokens} (NO_USAGE leaves it out).
    """

    content: str | None = None
    status: int = 200
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    tokens: int = 120
    trickle: float = 0.0
    usage: object = None


def summary(headline: str, *sentences: str) -> Scripted:
    """Return a scripted answer holding the JSON the prompt asks for."""
    return Scripted(json.dumps({"headline": headline, "summary": list(sentences)}))


class ChatServer:
    """Answers POST /v1/chat/completions with the next scripted reply; records each request.

    `routes` maps a text to the replies for prompts that contain it (an event's marker word),
    so that one run of many events can script each event; other prompts take `script`.
    """

    def __init__(
        self, script: list[Scripted], routes: dict[str, list[Scripted]] | None = None
    ) -> None:
        self.script = list(script)
        self.routes = {k: list(v) for k, v in (routes or {}).items()}
        self.requests: list[tuple[dict[str, str], dict[str, object]]] = []
        self.served: list[float] = []  # seconds from each request to its reply's end or abort
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                started = time.monotonic()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with owner.lock:
                    owner.requests.append((dict(self.headers.items()), body))
                    reply = owner.next_reply(str(body["messages"][0]["content"]))
                time.sleep(reply.delay)
                data = reply.raw
                if data is None and reply.status == 200:
                    completion = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "model": body.get("model"),
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": reply.content}}
                        ],
                        "usage": {"total_tokens": reply.tokens},
                    }
                    if reply.usage is NO_USAGE:
                        del completion["usage"]
                    elif reply.usage is not None:
                        completion["usage"] = reply.usage
                    data = json.dumps(completion).encode()
                data = data or b'{"error": "scripted"}'
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if not reply.trickle:
                        self.wfile.write(data)
                    for i in range(len(data) if reply.trickle else 0):
                        self.wfile.write(data[i : i + 1])
                        self.wfile.flush()
                        time.sleep(reply.trickle)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client gave up (timeout test)
                with owner.lock:
                    owner.served.append(time.monotonic() - started)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def next_reply(self, prompt: str) -> Scripted:
        """Return the reply scripted for this prompt (a 500 when the script has run out)."""
        for marker, replies in self.routes.items():
            if marker in prompt:
                return replies.pop(0) if replies else Scripted(status=500)
        return self.script.pop(0) if self.script else Scripted(status=500)

    def prompts(self) -> list[str]:
        """Return the user prompt of each request, in order."""
        return [str(body["messages"][0]["content"]) for _, body in self.requests]  # type: ignore[index]


@contextmanager
def chat_server(
    script: list[Scripted], routes: dict[str, list[Scripted]] | None = None
) -> Iterator[ChatServer]:
    """Run a ChatServer on 127.0.0.1 for the duration of the block."""
    server = ChatServer(script, routes)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
