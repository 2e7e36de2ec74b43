-- Tell the security operations centre about every privileged activation's outcome: granted,
-- denied or timed out. `completed` runs once a request reaches its outcome; a notification it
-- returns goes to the outbox with the service's own (see `pimlab notifications --to soc@...`).
--   pimlab hook add soc-notify --file scripts/hooks/soc-notify.lua
return {
  completed = function(request, ctx)
    if ctx.action ~= "selfActivate" or not ctx.role.isPrivileged then
      return nil
    end
    return {
      notify = {
        to = { "soc@contoso.example" },
        subject = string.format("PIM: %s %s: %s", ctx.principal.displayName, ctx.role.displayName, request.status),
        body = string.format("Justification: %s\nRequest: %s", request.justification or "(none)", request.id),
      },
    }
  end,
}
