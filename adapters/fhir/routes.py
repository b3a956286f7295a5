"""The FHIR R4 HTTP door (``/fhir``): thin routes over ``writes``, ``message_door`` and ``reads``.

Every answer is ``application/fhir+json``, errors included: a refused token, an unknown path, a body that
is too big or not JSON all get an OperationOutcome (R4 http.html), never the framework's own error body.
Every route but ``GET /fhir/metadata`` requires the ``auth`` dependency (a feed or admin user). A POST
answered with an error is recorded as a refused message (``adapters.fhir.refusals``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute

from adapters.fhir import documents, fill_reads, order_patients, reads, search_sources, writes
from adapters.fhir.audit_events import add_audit_event_search
from adapters.fhir.door import FhirDoor, RecordedOrders
from adapters.fhir.json_body import FHIR_JSON, MAX_BODY_BYTES, fhir_json
from adapters.fhir.message_door import process_message
from adapters.fhir.negotiation import not_acceptable
from adapters.fhir.outcomes import http_status_for, operation_outcome, outcome_for
from adapters.fhir.preferences import preferences, preferred_return, strict
from adapters.fhir.refusals import refused_entries, refused_request
from adapters.fhir.request_bodies import read_body, search_parameters
from adapters.fhir.route_methods import add_head_routes, allowed_methods
from adapters.fhir.search import parse_search, searchset
from adapters.fhir.search_params import SEARCH_PARAMS, openapi_parameters
from adapters.fhir.versions import not_modified, version_headers
from hub.errors import Problem, RxHubError
from hub.persistence.audit import AuditTrail
from hub.security.principals import user_principal
from hub.service.ports import CommandSink, DedupeJournal, InboundLog, PrescriptionQueries, RefusalLog

log = logging.getLogger(__name__)

#: the conditional-create header, documented in the OpenAPI description of POST /fhir/MedicationRequest
IF_NONE_EXIST = {
    "name": "If-None-Exist",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "conditional create: identifier=system|value",
}
#: issue type (R4 issue-type) for the HTTP errors the framework or the auth dependency raise
_HTTP_ISSUES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    413: "too-costly",
    415: "not-supported",
}
#: what authentication refuses, and audits itself: no message was read
_AUTHENTICATION = frozenset({401, 403, 429})


class Sender(Protocol):
    """What the door needs of the authenticated user: who it is (its principal owns its orders)."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...


def principal(user: Sender) -> str:
    """The principal a request speaks for: a feed, or a staff member trying the door."""
    return user_principal(user.name, user.role)


def scope(user: Sender) -> str | None:
    """Whose orders a reader may see: a feed its own; staff (admins) every order."""
    return principal(user) if user.role == "feed" else None


def fhir_response(resource: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A FHIR JSON answer."""
    return Response(fhir_json(resource), status_code=status, media_type=FHIR_JSON, headers=headers)


def _outcome(status: int, code: str, text: str, headers: dict[str, str] | None = None) -> Response:
    return fhir_response(operation_outcome([Problem(code, text, "", "error")]), status, headers)


def _error(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _outcome(
            exc.status_code, _HTTP_ISSUES.get(exc.status_code, "processing"), str(exc.detail), dict(exc.headers or {})
        )
    if isinstance(exc, RequestValidationError):
        where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return _outcome(400, "invalid", f"invalid request: {where}")
    status = http_status_for(exc)
    return fhir_response(outcome_for(exc), status, {"Retry-After": "5"} if status == 503 else None)


def fhir_route(refusals: RefusalLog) -> type[APIRoute]:
    """The route class of the door: errors become OperationOutcomes, and refused POSTs go to ``refusals``."""

    class FhirRoute(APIRoute):
        """Turns every error met while answering (auth and validation included) into an OperationOutcome."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            """The default handler, wrapped."""
            handler = super().get_route_handler()

            async def answer(request: Request) -> Response:
                refused = not_acceptable(request.headers.getlist("accept"), request.query_params.get("_format"))
                if refused is not None:
                    return _outcome(406, "not-supported", refused)
                try:
                    response = await handler(request)
                except (HTTPException, RequestValidationError, RxHubError) as exc:
                    response = _error(exc)
                    if isinstance(exc, HTTPException) and exc.status_code in _AUTHENTICATION:
                        return response
                except Exception:
                    log.exception("FHIR request failed: %s %s", request.method, request.url.path)
                    response = _outcome(500, "exception", "internal error; the request was not accepted")
                if request.method == "POST" and response.status_code >= 400 and not _is_search(request):
                    _record_refusal(refusals, request, response)
                return response

            return answer

    return FhirRoute


def _is_search(request: Request) -> bool:
    """A POST [type]/_search: a query, not a message to record when refused."""
    return request.url.path.endswith("/_search")


def _record_refusal(refusals: RefusalLog, request: Request, response: Response) -> None:
    user = getattr(request.state, "user", None)  # set by the auth dependency once the token was accepted
    if user is None:
        return
    body = getattr(request.state, "fhir_body", b"")
    refusals.record_later(
        refused_request(principal=principal(user), body=body, status=response.status_code, answer=bytes(response.body))
    )


def fhir_base(request: Request) -> str:
    """The absolute FHIR base URL, ending in a slash."""
    return f"{str(request.base_url).rstrip('/')}/fhir/"


def _read(request: Request, resource: dict[str, Any]) -> Response:
    """A read's answer with its version (ETag, Last-Modified); 304 when the client has that version."""
    headers = version_headers(resource)
    if not_modified(request.headers.get("if-none-match"), resource, request.headers.get("if-modified-since")):
        return Response(status_code=304, headers=headers)
    return fhir_response(resource, headers=headers)


def _moved(request: Request, location: str) -> Response:
    """301 to the one id a resource has (a read by another id the hub knows it by)."""
    text = f"this resource is {location}"
    outcome = operation_outcome([Problem("informational", text, "", "information")])
    return fhir_response(outcome, 301, {"Location": fhir_base(request) + location})


def _query_condition(request: Request) -> str | None:
    """A conditional create's search sent as the query of the POST (fhirpy's ``get_or_create`` does so), as
    If-None-Exist would carry it; parameters starting with ``_`` (``_format``...) are no search."""
    search = [(k, v) for k, v in request.query_params.multi_items() if not k.startswith("_")]
    return urlencode(search) if search else None


def _answer(request: Request, answer: writes.Answer) -> Response:
    """A write's answer: Location of what was created or found, and its version (ETag) when it has one."""
    headers = {"Location": fhir_base(request) + answer.location} if answer.location else {}
    if answer.location and answer.resource.get("resourceType") != "OperationOutcome":
        headers |= version_headers(answer.resource)
    if answer.body is not None:
        return Response(answer.body, status_code=answer.status, media_type=FHIR_JSON, headers=headers)
    return fhir_response(answer.resource, answer.status, headers)


def _document_answer(request: Request, answer: writes.Answer) -> Response:
    """A document's answer as Prefer asks; ``return=OperationOutcome`` names each of its orders."""
    prefer = preferences(request.headers.getlist("prefer"))
    response = _answer(request, answer)
    if prefer.get("return") != "OperationOutcome" or answer.outcome is None or answer.status >= 300:
        return preferred_return(prefer, response)
    headers = {k: v for k, v in response.headers.items() if k.lower() in ("location", "etag", "last-modified")}
    return fhir_response(answer.outcome, answer.status, headers | {"Preference-Applied": "return=OperationOutcome"})


def fhir_router(
    *,
    sink: CommandSink,
    inbound: InboundLog,
    queries: PrescriptionQueries,
    auth: Callable[..., Any],
    refusals: RefusalLog,
    audit_trail: Callable[..., AuditTrail],
    admin_auth: Callable[..., Any] | None = None,
    journal: DedupeJournal | None = None,
    recorded: RecordedOrders | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> APIRouter:
    """The ``/fhir`` router: writes publish through ``sink``, dedupe in ``journal`` (when the process has one)
    or ``inbound``, reads from ``queries``; ``recorded`` answers the lookup made before each publish; what
    it refuses goes to ``refusals``; ``admin_auth`` admits the audit trail's readers (``audit_trail``: the
    dependency that gives it) and audits whom it refuses; no body larger than ``max_body_bytes`` is read."""
    door = FhirDoor(sink, inbound, queries, journal, recorded)
    router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=fhir_route(refusals))

    @router.get("/metadata")
    async def metadata(request: Request) -> Response:
        """The CapabilityStatement (open, as R4 expects of the capabilities interaction)."""
        return fhir_response(reads.capabilities(fhir_base(request)))

    @router.post("/MedicationRequest", openapi_extra={"parameters": [IF_NONE_EXIST]})
    async def create(request: Request, user: Sender = Depends(auth)) -> Response:
        """Create an order; conditional on its identifier (If-None-Exist: identifier=system|value)."""
        # the header is read here, not declared as a parameter: FastAPI re-derived its model on every request
        condition = request.headers.get("if-none-exist") or _query_condition(request)
        answer = await writes.create(door, await read_body(request, max_body_bytes), principal(user), condition)
        if answer.duplicate:  # the hub's message counter says so (hub.observability.metrics.OUTCOMES)
            request.state.door_outcome = "duplicate"
        return preferred_return(preferences(request.headers.getlist("prefer")), _answer(request, answer))

    @router.post("")
    @router.post("/", include_in_schema=False)
    async def transaction_or_batch(request: Request, user: Sender = Depends(auth)) -> Response:
        """A transaction (all or nothing) or batch (per entry) Bundle."""
        body = await read_body(request, max_body_bytes)
        answer = await writes.post_base(door, body, principal(user))
        if answer.resource.get("type") == "batch-response":  # its refused entries stand inside a 200
            for refused in refused_entries(principal=principal(user), body=body, response=answer.resource):
                refusals.record_later(refused)
        return _answer(request, answer)

    @router.post("/Bundle")
    async def document(request: Request, user: Sender = Depends(auth)) -> Response:
        """Create a document Bundle: its orders all or nothing, then the Bundle (201 + Location)."""
        answer = await writes.post_document(door, await read_body(request, max_body_bytes), principal(user))
        if answer.duplicate:
            request.state.door_outcome = "duplicate"
        return _document_answer(request, answer)

    @router.get("/Bundle/{bundle_id}")
    async def read_document(request: Request, bundle_id: str, user: Sender = Depends(auth)) -> Response:
        """A document Bundle this principal created, as it was received."""
        return _read(request, await documents.read(door, bundle_id, principal(user)))

    @router.post("/$process-message")
    async def message(request: Request, user: Sender = Depends(auth)) -> Response:
        """A message Bundle (MessageHeader first), answered with a response message."""
        return _answer(request, await process_message(door, await read_body(request, max_body_bytes), principal(user)))

    @router.get("/MedicationRequest/{resource_id}")
    async def read_order(request: Request, resource_id: str, user: Sender = Depends(auth)) -> Response:
        """One order, with its current status; read by the hub's own prescription id, a 301 to its one FHIR id."""
        resource = await reads.medication_request(door, resource_id, scope(user))
        if resource.get("id") != resource_id:
            return _moved(request, f"MedicationRequest/{resource['id']}")
        return _read(request, resource)

    @router.get("/MedicationDispense/{resource_id}")
    async def read_dispense(request: Request, resource_id: str, user: Sender = Depends(auth)) -> Response:
        """One fill of an order (the id a MedicationDispense search gives)."""
        return _read(request, await fill_reads.medication_dispense(door, resource_id, scope(user)))

    @router.get("/ClaimResponse/{resource_id}")
    async def read_claim(request: Request, resource_id: str, user: Sender = Depends(auth)) -> Response:
        """The payer's answer for one fill (the id a ClaimResponse search gives)."""
        return _read(request, await fill_reads.claim_response(door, resource_id, scope(user)))

    @router.get("/Patient/{patient_id}")
    async def read_patient(request: Request, patient_id: str, user: Sender = Depends(auth)) -> Response:
        """A patient the pharmacy knows, by its own id or as an order names them (``order_patients``)."""
        if order_patients.is_order_patient(patient_id):
            return _read(request, await order_patients.read(door, patient_id, scope(user)))
        return _read(request, await reads.patient(queries, patient_id, scope(user)))

    for resource_type in SEARCH_PARAMS:
        searcher = _searcher(resource_type, queries, auth, max_body_bytes)
        router.add_api_route(
            f"/{resource_type}",
            searcher,
            methods=["GET"],
            name=f"search_{resource_type}",
            summary=f"Search {resource_type}",
            openapi_extra={"parameters": openapi_parameters(resource_type)},
        )
        router.add_api_route(
            f"/{resource_type}/_search",
            searcher,
            methods=["POST"],
            name=f"search_{resource_type}_post",
            summary=f"Search {resource_type} (form body)",
        )
    add_audit_event_search(router, admin_auth or auth, audit_trail)
    add_head_routes(router)

    async def unsupported(request: Request, path: str, user: Sender = Depends(auth)) -> Response:
        """Anything else under /fhir: 405 naming the methods a known path takes, else 404; said in FHIR."""
        allowed = allowed_methods(router, request.url.path)
        if allowed:
            return _outcome(
                405,
                "not-supported",
                f"{request.method} is not supported on /fhir/{path}; allowed: {', '.join(allowed)}",
                {"Allow": ", ".join(allowed)},
            )
        return _outcome(
            404,
            "not-supported",
            f"{request.method} /fhir/{path} is not supported by this server; see GET /fhir/metadata",
        )

    # one route per method: OpenAPI wants an operationId of its own for each operation
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        router.add_api_route(
            "/{path:path}", unsupported, methods=[method], operation_id=f"fhir_unsupported_{method.lower()}"
        )
    return router


def _searcher(
    resource_type: str, queries: PrescriptionQueries, auth: Callable[..., Any], max_body_bytes: int
) -> Callable[..., Coroutine[Any, Any, Response]]:
    async def search(request: Request, user: Sender = Depends(auth)) -> Response:
        """A search (GET, or POST _search with a form); a feed finds its own orders and their patients only."""
        prefer = preferences(request.headers.getlist("prefer"))
        wanted = parse_search(resource_type, await search_parameters(request, max_body_bytes), strict=strict(prefer))
        found = await search_sources.matches(wanted, queries, scope(user))
        return fhir_response(searchset(fhir_base(request), wanted, found.page, found.total))

    search.__doc__ = f"Search {resource_type} ({', '.join(p.name for p in SEARCH_PARAMS[resource_type])})."
    return search
