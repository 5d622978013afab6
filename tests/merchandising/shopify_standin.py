"""A local stand-in for Shopify's GraphQL Admin API, written from Shopify's documented contract for the
calls the sort writeback makes (not from our client's code):

- ``POST /admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token`` (401 otherwise);
- ``collectionUpdate(input: {id, sortOrder})`` -> ``collection {id sortOrder}``, ``userErrors``;
- ``collectionReorderProducts(id, moves: [{id, newPosition}])``: the collection's sortOrder must be MANUAL; at
  most 250 moves; answers a ``job {id done}`` and applies the moves when the job finishes (after a few polls
  of ``job(id)``): one after the other, ``newPosition`` being the zero-based index the product has once moved,
  in the list as earlier moves left it, past the end meaning last. ``newPosition`` is an UnsignedInt64,
  i.e. a string of digits in JSON. A reorder sent while the collection's previous job runs is refused;
- ``productOptionsReorder(productId, options: [{name, values: [{name}]}])`` with its userError codes;
- cost-based throttling: every answer carries ``extensions.cost.throttleStatus``; faults can be scripted per
  request number: ``"429"`` (HTTP 429 with Retry-After), ``"throttled"`` (HTTP 200, a THROTTLED error),
  ``"502"`` (a transient gateway error). A faulted request changes nothing.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = re.compile(r"^/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json$")
OPERATIONS = ("collectionReorderProducts", "collectionUpdate", "productOptionsReorder", "job")
MAX_MOVES = 250
SORT_ORDERS = {
    "ALPHA_ASC",
    "ALPHA_DESC",
    "BEST_SELLING",
    "CREATED",
    "CREATED_DESC",
    "MANUAL",
    "PRICE_ASC",
    "PRICE_DESC",
}


@dataclass
class Job:
    collection: str
    moves: list[tuple[str, int]]
    polls_left: int
    done: bool = False


@dataclass
class StandIn:
    token: str
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)  # gid -> {"sortOrder", "products"}
    products: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # gid -> [{"name", "values"}]
    faults: dict[int, str] = field(default_factory=dict)  # request number (1-based) -> fault
    retry_after: str = "1"
    polls_per_job: int = 2
    requests: list[dict[str, Any]] = field(default_factory=list)
    jobs: dict[str, Job] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    # ---- what the tests read -----------------------------------------------------------------------------

    def calls(self, operation: str) -> list[dict[str, Any]]:
        """Requests of one operation that the stand-in processed (not faulted)."""
        return [r for r in self.requests if r["operation"] == operation and not r["fault"]]

    def order(self, collection_gid: str) -> list[str]:
        return list(self.collections[collection_gid]["products"])

    # ---- one request -------------------------------------------------------------------------------------

    def handle(self, path: str, token: str | None, body: bytes) -> tuple[int, dict[str, str], dict | str]:
        with self.lock:
            number = len(self.requests) + 1
            if not PATH.match(path):
                self.requests.append({"operation": None, "variables": None, "fault": "404"})
                return 404, {}, {"errors": "Not Found"}
            if token != self.token:
                self.requests.append({"operation": None, "variables": None, "fault": "401"})
                return (
                    401,
                    {},
                    {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                )
            payload = json.loads(body)
            query, variables = payload["query"], payload.get("variables") or {}
            operation = next((op for op in OPERATIONS if re.search(rf"\b{op}\s*\(", query)), None)
            fault = self.faults.get(number)
            self.requests.append({"operation": operation, "variables": variables, "fault": fault})
            cost = 1 if operation == "job" else 10
            if fault == "429":
                return 429, {"Retry-After": self.retry_after}, {"errors": "Exceeded 2 calls per second for api client."}
            if fault == "throttled":
                return (
                    200,
                    {},
                    {
                        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                        "extensions": self._cost(cost, None, available=0),
                    },
                )
            if fault == "502":
                return 502, {}, "<html>502 Bad Gateway</html>"
            data = getattr(self, f"_{operation}")(variables) if operation else None
            if data is None:
                return 200, {}, {"errors": [{"message": "unknown operation"}], "extensions": self._cost(cost, cost)}
            return 200, {}, {"data": data, "extensions": self._cost(cost, cost)}

    @staticmethod
    def _cost(requested: int, actual: int | None, available: float = 990.0) -> dict:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                # restores fast so waiting out a THROTTLED costs milliseconds
                "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": available, "restoreRate": 1000.0},
            }
        }

    # ---- operations --------------------------------------------------------------------------------------

    def _collectionUpdate(self, variables: dict) -> dict:
        data = variables["input"]
        collection = self.collections.get(data.get("id"))
        if collection is None:
            return {"collectionUpdate": {"collection": None, "userErrors": [_err(["id"], "Collection does not exist")]}}
        if data.get("sortOrder") not in SORT_ORDERS:
            return {"collectionUpdate": {"collection": None, "userErrors": [_err(["sortOrder"], "Invalid sort order")]}}
        collection["sortOrder"] = data["sortOrder"]
        return {
            "collectionUpdate": {"collection": {"id": data["id"], "sortOrder": data["sortOrder"]}, "userErrors": []}
        }

    def _collectionReorderProducts(self, variables: dict) -> dict:
        def refused(fields: list[str], message: str, code: str) -> dict:
            return {"collectionReorderProducts": {"job": None, "userErrors": [_err(fields, message, code)]}}

        gid, moves = variables.get("id"), variables.get("moves") or []
        collection = self.collections.get(gid)
        if collection is None:
            return refused(["id"], "Collection does not exist", "COLLECTION_NOT_FOUND")
        if collection["sortOrder"] != "MANUAL":
            return refused(["id"], "Can't reorder products unless collection is manually sorted", "MANUAL_SORT_ORDER")
        if not moves or len(moves) > MAX_MOVES:
            return refused(["moves"], f"Between 1 and {MAX_MOVES} moves can be done at once", "INVALID_MOVE")
        if any(j.collection == gid and not j.done for j in self.jobs.values()):
            return refused(["id"], "A reorder of this collection is still in progress", "JOB_RUNNING")
        parsed = []
        for index, move in enumerate(moves):
            position = move.get("newPosition")
            if not (isinstance(position, str) and position.isdigit()) and not (
                isinstance(position, int) and position >= 0
            ):
                return refused(["moves", str(index), "newPosition"], "Invalid UnsignedInt64", "INVALID_MOVE")
            if move.get("id") not in collection["products"]:
                return refused(["moves", str(index), "id"], "Product is not in the collection", "INVALID_MOVE")
            parsed.append((move["id"], int(position)))
        job_id = f"gid://shopify/Job/{len(self.jobs) + 1}"
        self.jobs[job_id] = Job(collection=gid, moves=parsed, polls_left=self.polls_per_job)
        return {"collectionReorderProducts": {"job": {"id": job_id, "done": False}, "userErrors": []}}

    def _job(self, variables: dict) -> dict:
        job = self.jobs.get(variables.get("id"))
        if job is None:
            return {"job": None}
        if not job.done:
            job.polls_left -= 1
            if job.polls_left <= 0:
                products = self.collections[job.collection]["products"]
                for product, position in job.moves:  # one after the other, as documented
                    products.remove(product)
                    products.insert(min(position, len(products)), product)
                job.done = True
        return {"job": {"id": variables["id"], "done": job.done}}

    def _productOptionsReorder(self, variables: dict) -> dict:
        def refused(fields: list[str], message: str, code: str) -> dict:
            return {"productOptionsReorder": {"product": None, "userErrors": [_err(fields, message, code)]}}

        gid, options = variables.get("productId"), variables.get("options") or []
        current = self.products.get(gid)
        if current is None:
            return refused(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        by_name = {o["name"]: o for o in current}
        reordered = []
        for i, option in enumerate(options):
            if "id" in option or any("id" in v for v in option.get("values") or []):
                return refused(
                    ["options", str(i)],
                    "Mixing id and name keys is not allowed",
                    "MIXING_ID_AND_NAME_KEYS_IS_NOT_ALLOWED",
                )
            known = by_name.get(option.get("name"))
            if known is None:
                return refused(["options", str(i), "name"], "Option name does not exist", "OPTION_NAME_DOES_NOT_EXIST")
            names = [v.get("name") for v in option.get("values") or []]
            if any(n not in known["values"] for n in names):
                return refused(
                    ["options", str(i), "values"], "Option value does not exist", "OPTION_VALUE_DOES_NOT_EXIST"
                )
            rest = [v for v in known["values"] if v not in names]
            reordered.append({"name": known["name"], "values": names + rest})
        rest = [o for o in current if o["name"] not in {r["name"] for r in reordered}]
        self.products[gid] = reordered + rest
        return {"productOptionsReorder": {"product": {"id": gid}, "userErrors": []}}


def _err(fields: list[str], message: str, code: str | None = None) -> dict:
    return {"field": fields, "message": message, "code": code}


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, answer = self.server.standin.handle(  # type: ignore[attr-defined]
            self.path, self.headers.get("X-Shopify-Access-Token"), body
        )
        raw = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if isinstance(answer, str) else "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet tests


def serve(standin: StandIn) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Start the stand-in on a free local port (``standin.url`` is set); stop with ``server.shutdown()``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.standin = standin  # type: ignore[attr-defined]
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
