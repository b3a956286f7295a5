"""HTTPS POST of one SCRIPT message to a network endpoint, with our client certificate and credentials.

Every failure to get an answer (refused, reset, timed out, TLS refused) is a retryable NetworkAnswer, never
an exception: the connector decides how long to keep trying.
"""

from __future__ import annotations

import httpx

from adapters.ncpdp.script.network_answers import NetworkAnswer, judge_answer
from adapters.ncpdp.script.network_config import ScriptEndpoint
from hub.messaging.held_delivery import Outcome

CONTENT_TYPE = "application/xml"


class NetworkClient:
    """One kept-alive HTTP client per endpoint."""

    def __init__(self, endpoint: ScriptEndpoint) -> None:
        self.endpoint = endpoint
        self._client = endpoint.client()

    def post(self, body: bytes, message_id: str) -> NetworkAnswer:
        """POST ``body`` and judge the answer."""
        headers = {"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE}
        authorization = self.endpoint.authorization()
        if authorization is not None:
            headers["Authorization"] = authorization
        try:
            response = self._client.post(self.endpoint.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return NetworkAnswer(Outcome.RETRY, "no answer", f"{type(exc).__name__}: {exc}"[:300])
        return judge_answer(response.status_code, response.content, message_id)

    def close(self) -> None:
        """Close kept-alive connections."""
        self._client.close()
