"""A local fake of the Hugging Face Hub's HTTP API: just what pushing and pulling runs needs.

``huggingface_hub`` 2.4 talks to the Hub through httpx2, which no mocking library intercepts, so the
tests point it at this real server on 127.0.0.1 (``HfApi(endpoint=server.url)`` and the
``endpoint=`` argument of ``snapshot_download``). It serves, for model and dataset repos held in
memory:

* ``POST /api/repos/create``: create a repo (409 when it exists);
* ``GET /api/{type}s/{repo}[/revision/{rev}]``: repo info with the head commit ``sha``;
* ``GET /api/{type}s/{repo}/tree/{rev}[/{path}]``: the file listing (``recursive`` honoured);
* ``POST /api/{type}s/{repo}/preupload/{rev}``: every file is "regular" (no LFS, no Xet);
* ``POST /api/{type}s/{repo}/commit/{rev}``: an NDJSON commit with base64 files and deletions;
* ``HEAD``/``GET /{type}s/{repo}/resolve/{rev}/{path}`` (no prefix for models): file download.

Writes need ``Authorization: Bearer <token>`` when the server was given a token. Every request is
recorded in :attr:`HubServer.requests`; :meth:`HubServer.fail_next` makes the next requests fail.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a file's content (what the Hub reports as a regular file's oid)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    """A repository held in memory: its files at the head commit and its commit history."""

    repo_id: str
    repo_type: str
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def sha(self) -> str:
        """The head commit id."""
        return self.commits[-1]

    def commit(self, files: dict[str, bytes | None], message: str) -> str:
        """Apply additions (bytes) and deletions (None) as one commit; returns its id."""
        for path, data in files.items():
            if data is None:
                self.files = {
                    p: d for p, d in self.files.items() if p != path and not p.startswith(path.rstrip("/") + "/")
                }
            else:
                self.files[path] = data
        digest = hashlib.sha1(json.dumps([self.sha if self.commits else "", message, sorted(files)]).encode())
        self.commits.append(digest.hexdigest())
        self.messages.append(message)
        return self.sha


@dataclass(frozen=True)
class Recorded:
    """One request: method, path (without query), query and body."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes = field(repr=False)
    authorization: str | None = field(repr=False, default=None)


class HubServer:
    """The running fake Hub. Get one from :func:`serve_hub`.

    Attributes:
        url: ``http://127.0.0.1:PORT``: what ``HfApi(endpoint=...)`` takes.
        token: When set, writes need this bearer token.
    """

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[Recorded] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        """The endpoint URL."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def create(self, repo_id: str, repo_type: str = "dataset", files: dict[str, bytes] | None = None) -> Repo:
        """Create a repo, with an initial commit holding ``files``."""
        repo = self.repos[(repo_type, repo_id)] = Repo(repo_id, repo_type)
        repo.commit(dict(files or {}), "initial commit")
        return repo

    def seed_folder(self, repo_id: str, folder: Path, repo_type: str = "dataset") -> Repo:
        """Create a repo holding every file under ``folder`` (paths relative to it)."""
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        return self.create(repo_id, repo_type, files)

    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        """A repo by id."""
        return self.repos[(repo_type, repo_id)]

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """Answer the next ``count`` requests with HTTP ``status``."""
        with self._lock:
            self._failures.extend([status] * count)

    def start(self) -> HubServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


_API = re.compile(r"^/api/(models|datasets|spaces)/([^/]+/[^/]+)(?:/(revision|tree|preupload|commit)/([^/]+)(/.*)?)?$")
_RESOLVE = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")


def _make_handler(hub: HubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            """Quiet: tests read ``hub.requests``."""

        # ------------------------------------------------------------------ plumbing

        def _start(self) -> tuple[str, dict[str, list[str]], bytes] | None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = unquote(parts.path)
            auth = self.headers.get("Authorization")
            with hub._lock:
                hub.requests.append(Recorded(self.command, path, parse_qs(parts.query), body, auth))
                failure = hub._failures.pop(0) if hub._failures else None
            if failure is not None:
                self._json(failure, {"error": f"injected failure {failure}"})
                return None
            return path, parse_qs(parts.query), body

        def _json(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._send(code, json.dumps(payload).encode(), "application/json", headers)

        def _send(self, code: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _error(self, code: int, message: str, error_code: str | None = None) -> None:
            headers = {"X-Error-Message": message}
            if error_code:
                headers["X-Error-Code"] = error_code
            self._json(code, {"error": message}, headers)

        def _authorized(self) -> bool:
            if hub.token is None or self.headers.get("Authorization") == f"Bearer {hub.token}":
                return True
            self._error(401, "Invalid credentials in Authorization header")
            return False

        def _repo(self, kind: str, repo_id: str) -> Repo | None:
            repo = hub.repos.get((kind.rstrip("s"), repo_id))
            if repo is None:
                self._error(404, "Repository not found", "RepoNotFound")
            return repo

        # ------------------------------------------------------------------ verbs

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            self._read_request()

        def do_HEAD(self) -> None:  # noqa: N802 - stdlib naming
            self._read_request()

        def do_POST(self) -> None:  # noqa: N802 - stdlib naming
            started = self._start()
            if started is None:
                return
            path, query, body = started
            if path == "/api/repos/create":
                self._create(json.loads(body or b"{}"))
                return
            match = _API.match(path)
            if not match or match.group(3) not in ("preupload", "commit"):
                self._error(404, f"no route POST {path}")
                return
            if not self._authorized():
                return
            repo = self._repo(match.group(1), match.group(2))
            if repo is None:
                return
            if match.group(3) == "preupload":
                files = json.loads(body)["files"]
                listing = [
                    {
                        "path": f["path"],
                        "uploadMode": "regular",
                        "shouldIgnore": False,
                        "oid": git_blob_sha1(repo.files[f["path"]]) if f["path"] in repo.files else None,
                    }
                    for f in files
                ]
                self._json(200, {"files": listing, "commitOid": repo.sha})
            else:
                self._commit(repo, body)

        def _create(self, payload: dict) -> None:
            if not self._authorized():
                return
            name = payload.get("name")
            repo_id = f"{payload['organization']}/{name}" if payload.get("organization") else f"user/{name}"
            kind = payload.get("type") or "model"
            prefix = "" if kind == "model" else f"{kind}s/"
            body = {"url": f"{hub.url}/{prefix}{repo_id}", "name": repo_id, "id": repo_id}
            if (kind, repo_id) in hub.repos:
                # As the Hub does: 409, and the body still names the repo (huggingface_hub reads its url).
                self._json(409, {**body, "error": "You already created this repo"})
                return
            hub.create(repo_id, kind)
            self._json(200, body)

        def _commit(self, repo: Repo, body: bytes) -> None:
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            header = next(x["value"] for x in lines if x["key"] == "header")
            changes: dict[str, bytes | None] = {}
            for entry in lines:
                value = entry["value"]
                if entry["key"] == "file":
                    changes[value["path"]] = base64.b64decode(value["content"])
                elif entry["key"] in ("deletedFile", "deletedFolder"):
                    changes[value["path"]] = None
                elif entry["key"] != "header":
                    self._error(400, f"this fake Hub does not take {entry['key']!r} entries")
                    return
            sha = repo.commit(changes, header["summary"])
            prefix = "" if repo.repo_type == "model" else f"{repo.repo_type}s/"
            self._json(200, {"commitUrl": f"{hub.url}/{prefix}{repo.repo_id}/commit/{sha}", "commitOid": sha})

        def _read_request(self) -> None:
            started = self._start()
            if started is None:
                return
            path, query, _ = started
            match = _API.match(path)
            if match:
                repo = self._repo(match.group(1), match.group(2))
                if repo is None:
                    return
                if match.group(3) in (None, "revision"):
                    siblings = [{"rfilename": p} for p in sorted(repo.files)]
                    self._json(200, {"id": repo.repo_id, "sha": repo.sha, "siblings": siblings, "private": False})
                elif match.group(3) == "tree":
                    self._tree(repo, (match.group(5) or "").strip("/"), query.get("recursive") == ["true"])
                else:
                    self._error(404, f"no route GET {path}")
                return
            match = _RESOLVE.match(path)
            if not match:
                self._error(404, f"no route {self.command} {path}")
                return
            repo = self._repo((match.group(1) or "model"), match.group(2))
            if repo is None:
                return
            data = repo.files.get(match.group(4))
            if data is None:
                self._error(404, "Entry not found", "EntryNotFound")
                return
            etag = f'"{git_blob_sha1(data)}"'
            self._send(200, data, "application/octet-stream", {"ETag": etag, "X-Repo-Commit": repo.sha})

        def _tree(self, repo: Repo, folder: str, recursive: bool) -> None:
            prefix = folder + "/" if folder else ""
            entries: dict[str, dict] = {}
            for path, data in sorted(repo.files.items()):
                if not path.startswith(prefix):
                    continue
                rest = path[len(prefix) :]
                if "/" in rest and not recursive:
                    sub = prefix + rest.split("/", 1)[0]
                    entries[sub] = {"type": "directory", "oid": "0" * 40, "path": sub}
                    continue
                if recursive:
                    parts = rest.split("/")[:-1]
                    for k in range(1, len(parts) + 1):
                        sub = prefix + "/".join(parts[:k])
                        entries.setdefault(sub, {"type": "directory", "oid": "0" * 40, "path": sub})
                entries[path] = {"type": "file", "oid": git_blob_sha1(data), "size": len(data), "path": path}
            self._json(200, list(entries.values()))

    return Handler


@contextmanager
def serve_hub(token: str | None = None) -> Iterator[HubServer]:
    """Run a fake Hub on 127.0.0.1 for the duration of a ``with`` block.

    Args:
        token: When given, write requests must carry ``Authorization: Bearer <token>``.
    """
    server = HubServer(token).start()
    try:
        yield server
    finally:
        with contextlib.suppress(OSError):
            server.stop()
