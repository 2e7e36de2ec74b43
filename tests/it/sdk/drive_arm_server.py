"""Drives a running `pimlab serve --tls` with the real azure-mgmt-authorization client, unmodified:
a bearer token from `pimlab token`, the server's base URL and its certificate. Usage:
drive_arm_server.py BASE_URL TOKEN CERT_FILE SUBSCRIPTION PRINCIPAL_ID. Prints one line per
check; exits 1 on the first failure."""

import sys
import uuid

from azure.core.credentials import AccessToken
from azure.mgmt.authorization import AuthorizationManagementClient


class StaticToken:
    """A credential that hands the SDK the token pimlab minted."""

    def __init__(self, token):
        self.token = token

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, 4102444800)


def main():
    base, token, cert, subscription, principal = sys.argv[1:6]
    client = AuthorizationManagementClient(
        StaticToken(token), subscription, base_url=base, connection_verify=cert
    )
    scope = f"/subscriptions/{subscription}"
    owner = list(client.role_definitions.list(scope, filter="roleName eq 'Owner'"))
    assert [d.role_name for d in owner] == ["Owner"], owner
    print("role definitions: Owner found")
    contributor = list(client.role_definitions.list(scope, filter="roleName eq 'Contributor'"))[0]
    name = str(uuid.uuid4())
    made = client.role_eligibility_schedule_requests.create(
        scope,
        name,
        {
            "principal_id": principal,
            "role_definition_id": contributor.id,
            "request_type": "AdminAssign",
            "schedule_info": {"expiration": {"type": "AfterDuration", "duration": "P30D"}},
            "justification": "Assigned by the Azure SDK",
        },
    )
    assert made.status == "Provisioned", made.status
    print(f"eligibility request {made.name}: {made.status}")
    mine = list(client.role_eligibility_schedule_instances.list_for_scope(scope, filter=f"principalId eq '{principal}'"))
    assert any(i.role_definition_id.lower().endswith(contributor.name.lower()) for i in mine), mine
    print(f"eligibility instances: {len(mine)}")
    policies = list(client.role_management_policies.list_for_scope(scope))
    assert len(policies) >= 38, len(policies)
    print(f"role management policies: {len(policies)}")


if __name__ == "__main__":
    main()
