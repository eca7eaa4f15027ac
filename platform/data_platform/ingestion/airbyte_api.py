"""Production Airbyte through dagster-airbyte's client, with the retry policy this platform needs.

dagster-airbyte's ``AirbyteClient`` retries every failed request, a 401 or a 404 included,
which turns a wrong credential or connection id into minutes of pointless retries. Here only
what can succeed on a second try is retried: timeouts, connection errors, 5xx responses (and
429, the API's "slow down"). Everything else fails at once with the status and the API's
own message. The workspace classes below are dagster-airbyte's, returning this client.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests
from dagster import Failure
from dagster_airbyte import AirbyteCloudWorkspace, AirbyteWorkspace
from dagster_airbyte.resources import AirbyteClient

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RETRYABLE_ERRORS = (requests.Timeout, requests.ConnectionError)
"""Failures before an answer arrived: the request may succeed on a second try."""


def is_retryable(status_code: int) -> bool:
    """Whether an error answer can succeed on a second try: 429 (slow down) and the server's
    transient 5xx. Every other 4xx (bad credentials, unknown connection, conflict) cannot."""
    return status_code in RETRYABLE_STATUS


class AirbyteApiError(Failure):
    """The Airbyte API answered with an error that retrying cannot fix."""


class RetryingAirbyteClient(AirbyteClient):
    def _single_request(
        self,
        method: str,
        url: str,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        include_additional_request_headers: bool = True,
    ) -> Mapping[str, Any]:
        attempt = 0
        while True:
            try:
                session = self._get_session(include_additional_request_headers=include_additional_request_headers)
                response = session.request(method=method, url=url, json=data, params=params, timeout=self.request_timeout)
                if response.status_code < 400:
                    return response.json()
                if not is_retryable(response.status_code):
                    raise AirbyteApiError(
                        f"Airbyte API {method} {url} answered {response.status_code}: {response.text[:500]} (not retried)"
                    )
                problem = f"{response.status_code} {response.reason}"
            except RETRYABLE_ERRORS as error:
                problem = f"{type(error).__name__}: {error}"
            if attempt >= self.request_max_retries:
                raise Failure(f"Airbyte API {method} {url} failed after {attempt + 1} attempts; last error: {problem}")
            attempt += 1
            self._log.warning(f"Airbyte API {method} {url}: {problem}; retry {attempt}/{self.request_max_retries}")
            time.sleep(self.request_retry_delay * attempt)


def _client_kwargs(workspace: AirbyteWorkspace | AirbyteCloudWorkspace) -> dict[str, Any]:
    return dict(
        rest_api_base_url=workspace.rest_api_base_url,
        configuration_api_base_url=workspace.configuration_api_base_url,
        workspace_id=workspace.workspace_id,
        client_id=workspace.client_id,
        client_secret=workspace.client_secret,
        request_max_retries=workspace.request_max_retries,
        request_retry_delay=workspace.request_retry_delay,
        request_timeout=workspace.request_timeout,
        max_items_per_page=workspace.max_items_per_page,
        poll_interval=workspace.poll_interval,
        poll_timeout=workspace.poll_timeout,
        cancel_on_termination=workspace.cancel_on_termination,
        poll_previous_running_sync=workspace.poll_previous_running_sync,
    )


class SelfManagedAirbyteWorkspace(AirbyteWorkspace):
    """``AirbyteWorkspace`` (self-managed Airbyte) with the retry policy above."""

    def get_client(self) -> AirbyteClient:
        return RetryingAirbyteClient(**_client_kwargs(self), username=self.username, password=self.password)


class CloudAirbyteWorkspace(AirbyteCloudWorkspace):
    """``AirbyteCloudWorkspace`` with the retry policy above."""

    def get_client(self) -> AirbyteClient:
        return RetryingAirbyteClient(**_client_kwargs(self))
