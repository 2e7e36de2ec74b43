"""Drives a running `pimlab serve --tls` with the real msgraph-sdk client: a bearer token from
`pimlab token`, the server's base URL and its certificate. Usage: drive_graph_server.py BASE_URL
TOKEN CERT_FILE USER_PRINCIPAL_NAME. The only change from a client of the real service is where it points: the
request adapter's base URL, the HTTP client's trusted certificate, and the hosts the
authentication provider may send the token to. Prints one line per check; fails on the first
problem."""

import asyncio
import sys
from urllib.parse import urlparse

import httpx
from azure.core.credentials import AccessToken
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph_core import GraphClientFactory


class StaticToken:
    """An async credential that hands the SDK the token pimlab minted."""

    def __init__(self, token):
        self.token = token

    async def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, 4102444800)

    async def close(self):
        pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *args):
        pass


async def main():
    base, token, cert = sys.argv[1:4]
    host = urlparse(base).hostname
    auth = AzureIdentityAuthenticationProvider(
        StaticToken(token), scopes=["https://graph.microsoft.com/.default"], allowed_hosts=[host]
    )
    http = GraphClientFactory.create_with_default_middleware(client=httpx.AsyncClient(verify=cert))
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = f"{base}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    # `client.me` goes out as /users/me-token-to-replace for a middleware to rewrite, which this
    # hand-built adapter does not carry; the user by name is the same call.
    me = await client.users.by_user_id(sys.argv[4]).get()
    print(f"user: {me.user_principal_name}")
    roles = await client.role_management.directory.role_definitions.get()
    assert len(roles.value) > 20, len(roles.value)
    print(f"role definitions: {len(roles.value)}")
    schedules = await client.role_management.directory.role_eligibility_schedules.filter_by_current_user_with_on(
        "principal"
    ).get()
    assert schedules.value, "the user has eligibilities"
    print(f"my eligibilities: {len(schedules.value)}")


if __name__ == "__main__":
    asyncio.run(main())
