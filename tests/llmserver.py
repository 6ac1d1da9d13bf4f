"""A real loopback HTTP server that speaks OpenAI's chat-completions protocol from a script."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Scripted:
    """One answer: the model's text (wrapped in a completion), or a raw status/body."""

    content: str | None = None
    status: int = 200
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    tokens: int = 120


def summary(headline: str, *sentences: str) -> Scripted:
    """Return a scripted answer holding the JSON the prompt asks for."""
    return Scripted(json.dumps({"headline": headline, "summary": list(sentences)}))


class ChatServer:
    """Answers POST /v1/chat/completions with the next scripted reply; records each request."""

    def __init__(self, script: list[Scripted]) -> None:
        self.script = list(script)
        self.requests: list[tuple[dict[str, str], dict[str, object]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append((dict(self.headers.items()), body))
                reply = owner.script.pop(0) if owner.script else Scripted(status=500)
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
                    data = json.dumps(completion).encode()
                data = data or b'{"error": "scripted"}'
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def prompts(self) -> list[str]:
        """Return the user prompt of each request, in order."""
        return [str(body["messages"][0]["content"]) for _, body in self.requests]  # type: ignore[index]


@contextmanager
def chat_server(script: list[Scripted]) -> Iterator[ChatServer]:
    """Run a ChatServer on 127.0.0.1 for the duration of the block."""
    server = ChatServer(script)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
