#!/usr/bin/env bash
# A complete pimlab story on a fresh tenant: eligibility, activation and its policy checks, a
# refused request explained, self-service extension, the Graph surface, time passing, lock-out
# protection and the audit trail. Run from anywhere: ./scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
PIMLAB="$PWD/target/release/pimlab"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIMLAB_DB="$work/contoso.db"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Each argument as a shell reads it back: bare when it is plain, else in single quotes, so a line
# copied from the output runs as shown.
quoted() {
  local a out=()
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/\'\\\'\'}'"); fi
  done
  printf '%s' "${out[*]}"
}
run() { printf '\033[36m$ pimlab %s\033[0m\n' "$(quoted "$@")"; "$PIMLAB" "$@" || true; }

step "A new tenant with a small organisation (fixed seed and clock: every run is identical)"
run init --demo --seed 42 --at 2025-03-03T08:00:00Z

step "Who may activate what"
run eligible list

step "Alice is eligible for Global Administrator. Asking for 12 hours, without MFA or a reason, breaks three rules at once"
run --as alice --no-mfa activate --role "Global Administrator" --duration 12h

step "Within the policy: MFA-backed session, a justification, at most 8 hours"
run --as alice activate --role "Global Administrator" --duration 2h --justification "Rotate the federation signing certificate"

step "Deactivating within 5 minutes of activation is refused, as in Entra"
run --as alice deactivate --role "Global Administrator"

step "The role's settings (Graph's 17 policy rules, readably); make activation need a ticket"
run policy set "Global Administrator" --require-ticket true --activation-max 4h

step "Security Administrator now needs approval by the PIM Approvers group; Chloe asks, Kenji approves"
run policy set "Security Administrator" --require-approval true --approver "PIM Approvers"
run --as chloe activate --role "Security Administrator" --duration 1h --justification "Investigate alert 7731"
run --as kenji approvals --mine
approval=$("$PIMLAB" requests --status PendingApproval --json | grep -m1 '"id"' | cut -d'"' -f4)
run --as chloe approve "$approval" --justification "I'd like to approve myself"
run --as kenji approve "$approval" --justification "Alert 7731 confirmed by the SOC"
run notifications --to kenji

step "Members of Helpdesk Tier 1 are eligible through the group; Ben activates with his own id"
run --as ben activate --role "Helpdesk Administrator" --duration 1h --justification "Password resets for the Lyon office"

step "Lena's Global Reader eligibility ends in 10 days: she asks for an extension, an administrator grants it"
run --as lena extend --role "Global Reader" --justification "Quarterly access review continues"
run eligible extend --principal lena --role "Global Reader" --duration P90D --justification "Approved extension"

step "The same tenant through Microsoft Graph: active role assignments, with the principal expanded"
run graph GET "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances?\$filter=assignmentType eq 'Activated'&\$expand=principal(\$select=displayName)&\$select=principalId,roleDefinitionId,startDateTime,endDateTime,memberType"

step "Azure resource roles: the estate, and Dev made eligible for Owner of the production subscription"
run scope tree
run eligible assign --principal dev --role Owner --scope "Contoso Production" --duration P90D --justification "Platform on-call"

step "Just-enough access: Dev activates Owner on one resource group below it; ARM shows it there, and inherited below"
run --as dev activate --role Owner --scope rg-prod-data --duration 1h --justification "Rotate the vault keys"
run arm GET "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00/resourceGroups/rg-prod-data/providers/Microsoft.KeyVault/vaults/kv-contoso-prod/providers/Microsoft.Authorization/roleAssignmentScheduleInstances?api-version=2020-10-01"

step "Three hours pass: activations expire on the simulated clock"
run clock advance PT3H
run active list --now

step "The break-glass account is the last active Global Administrator: removing it is refused"
run active remove --principal breakglass@contoso.example --role "Global Administrator"

step "Every request keeps the story of how it was decided"
req=$("$PIMLAB" requests --principal ben --role "Helpdesk Administrator" --json | grep -m1 '"id"' | cut -d'"' -f4)
run request explain "$req"

step "The audit trail of Global Administrator, in the words of Entra's PIM audit log"
run audit --role "Global Administrator"
