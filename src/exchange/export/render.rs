//! A plan written out: as method, URL and body (`graph`), as an `.http` file (VS Code's REST
//! Client), as PowerShell (`Invoke-MgGraphRequest`, `Invoke-AzRestMethod`), or as `az rest`
//! lines. Each format carries an earlier response's value to a later call its own way.

use std::io::{self, Write};

use serde_json::Value;

use super::Format;
use super::plan::{Binding, Piece, Plan, Service, pieces};

/// Writes `plan` in `format` (not `Json` or `EasyPim`, which are not plans). `header` says what
/// the plan is of (the first comment line).
pub fn write(plan: &Plan, format: Format, header: &str, out: &mut dyn Write) -> io::Result<()> {
    // Every format's comments start with `#` (an .http file, PowerShell and sh alike).
    let comment = "#";
    writeln!(out, "{comment} {}", one_line(header))?;
    if plan.calls.is_empty() {
        writeln!(out, "{comment} Nothing to do: the tenant is as it was.")?;
    } else if plan.calls.iter().any(|c| c.binds.is_some()) {
        let how = match format {
            Format::Http => "a named request's response ({{name.response.body...}})",
            Format::PowerShell => "a variable set from an earlier response",
            Format::Az => "a shell variable set from an earlier response",
            _ => "{{name}}: the value an earlier call returned (`-> name = field`)",
        };
        writeln!(out, "{comment} New objects get their ids from the tenant: later calls use {how}.")?;
    }
    for note in &plan.notes {
        writeln!(out, "{comment} Not exported: {}", one_line(note))?;
    }
    match format {
        Format::Http => http(plan, out),
        Format::PowerShell => powershell(plan, out),
        Format::Az => az(plan, out),
        _ => graph(plan, out),
    }
}

/// Text for a comment line: a line break in a name would end the comment and turn the rest of the
/// name into code (a shell command, a PowerShell statement).
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn body_text(body: &Value, pretty: bool) -> String {
    let text = if pretty { serde_json::to_string_pretty(body) } else { serde_json::to_string(body) };
    text.unwrap_or_default()
}

/// Rewrites each `{{var}}` of `text` with `var_text(var)` and each literal piece with `lit`.
fn substitute(text: &str, lit: impl Fn(&str) -> String, var_text: impl Fn(&str) -> String) -> String {
    pieces(text)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => lit(t),
            Piece::Var(v) => var_text(v),
        })
        .collect()
}

fn graph(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    for (i, call) in plan.calls.iter().enumerate() {
        writeln!(out)?;
        writeln!(out, "# {}. {}", i + 1, one_line(&call.title))?;
        writeln!(out, "{} {}{}", call.method, call.service.root(), call.path)?;
        if let Some(body) = &call.body {
            writeln!(out, "{}", body_text(body, true))?;
        }
        if let Some(Binding { var, field }) = &call.binds {
            writeln!(out, "# -> {var} = {field}")?;
        }
    }
    Ok(())
}

fn http(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "@graph = {}", Service::Graph.root())?;
    writeln!(out, "@arm = {}", Service::Arm.root())?;
    writeln!(out, "@token = paste-a-bearer-token-here")?;
    // REST Client reads a value from a named request's response by JSONPath.
    let var = |v: &str| format!("{{{{{v}.response.body.{}}}}}", json_path(plan, v));
    for (i, call) in plan.calls.iter().enumerate() {
        writeln!(out)?;
        writeln!(out, "### {}. {}", i + 1, one_line(&call.title))?;
        if let Some(b) = &call.binds {
            writeln!(out, "# @name {}", b.var)?;
        }
        let root = match call.service {
            Service::Graph => "{{graph}}",
            Service::Arm => "{{arm}}",
        };
        writeln!(out, "{} {root}{}", call.method, substitute(&call.path, str::to_string, var))?;
        writeln!(out, "Authorization: Bearer {{{{token}}}}")?;
        if let Some(body) = &call.body {
            writeln!(out, "Content-Type: application/json")?;
            writeln!(out)?;
            writeln!(out, "{}", substitute(&body_text(body, true), str::to_string, var))?;
        }
    }
    Ok(())
}

/// The binding of `var` in `plan`, as a JSONPath (`$.value[0].policyId`).
fn json_path(plan: &Plan, var: &str) -> String {
    format!("${}", member_access(field_of(plan, var)))
}

fn field_of<'a>(plan: &'a Plan, var: &str) -> &'a str {
    plan.calls
        .iter()
        .filter_map(|c| c.binds.as_ref())
        .find(|b| b.var == var)
        .map(|b| b.field.as_str())
        .unwrap_or("id")
}

/// A binding's field as a member access (`.value[0].policyId`): PowerShell's, and the tail of a
/// JSONPath and of a JMESPath.
fn member_access(field: &str) -> String {
    field
        .split('.')
        .map(|p| if p.chars().all(|c| c.is_ascii_digit()) { format!("[{p}]") } else { format!(".{p}") })
        .collect()
}

/// PowerShell's escapes inside a double-quoted string or here-string.
fn ps_escape(text: &str) -> String {
    text.replace('`', "``").replace('$', "`$").replace('"', "`\"")
}

fn ps_here_escape(text: &str) -> String {
    text.replace('`', "``").replace('$', "`$")
}

fn powershell(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "# Sign in first: Connect-MgGraph -Scopes RoleManagement.ReadWrite.Directory, RoleManagementPolicy.ReadWrite.Directory, User.ReadWrite.All, Group.ReadWrite.All (and Connect-AzAccount for Azure calls)."
    )?;
    writeln!(out, "$ErrorActionPreference = 'Stop'")?;
    let var = |v: &str| format!("$({v})");
    for (i, call) in plan.calls.iter().enumerate() {
        writeln!(out)?;
        writeln!(out, "# {}. {}", i + 1, one_line(&call.title))?;
        let path = substitute(&call.path, ps_escape, var);
        let body = call.body.as_ref().map(|b| substitute(&body_text(b, true), ps_here_escape, var));
        let invocation = match call.service {
            Service::Graph => {
                let mut s = format!(
                    "Invoke-MgGraphRequest -Method {} -Uri \"{}{path}\"",
                    call.method,
                    call.service.root()
                );
                if let Some(body) = &body {
                    s.push_str(&format!(" -ContentType 'application/json' -Body @\"\n{body}\n\"@"));
                }
                s
            }
            Service::Arm => {
                let mut s = format!("Invoke-AzRestMethod -Method {} -Path \"{path}\"", call.method);
                if let Some(body) = &body {
                    s.push_str(&format!(" -Payload @\"\n{body}\n\"@"));
                }
                s
            }
        };
        match (&call.binds, call.service) {
            (Some(b), Service::Graph) => {
                writeln!(out, "${} = ({invocation}){}", b.var, member_access(&b.field))?
            }
            (Some(b), Service::Arm) => writeln!(
                out,
                "${} = (({invocation}).Content | ConvertFrom-Json){}",
                b.var,
                member_access(&b.field)
            )?,
            (None, _) => writeln!(out, "{invocation} | Out-Null")?,
        }
    }
    Ok(())
}

/// Single-quoted shell text: a `'` closes, is escaped, and reopens.
fn sh_quote(text: &str) -> String {
    text.replace('\'', "'\\''")
}

/// A binding's field as a JMESPath (`value[0].policyId`), for `az rest --query`.
fn jmes_path(field: &str) -> String {
    member_access(field).trim_start_matches('.').to_string()
}

fn az(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# Sign in first: az login (Graph calls need a token with the PIM permissions).")?;
    writeln!(out, "set -e")?;
    // Inside single quotes: close them, give the variable in double quotes, reopen.
    let var = |v: &str| format!("'\"${v}\"'");
    for (i, call) in plan.calls.iter().enumerate() {
        writeln!(out)?;
        writeln!(out, "# {}. {}", i + 1, one_line(&call.title))?;
        let url = format!("{}{}", call.service.root(), call.path);
        let mut line = format!(
            "az rest --method {} --url '{}'",
            call.method.to_lowercase(),
            substitute(&url, sh_quote, var)
        );
        if let Some(body) = &call.body {
            line.push_str(&format!(
                " --headers 'Content-Type=application/json' --body '{}'",
                substitute(&body_text(body, false), sh_quote, var)
            ));
        }
        match &call.binds {
            Some(b) => writeln!(out, "{}=$({line} --query '{}' --output tsv)", b.var, jmes_path(&b.field))?,
            None => writeln!(out, "{line} --output none")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::export::plan::Call;
    use serde_json::json;

    fn sample() -> Plan {
        Plan {
            calls: vec![
                Call {
                    title: "Create the group Ops's admins".into(),
                    service: Service::Graph,
                    method: "POST",
                    path: "/v1.0/groups".into(),
                    body: Some(json!({"displayName": "Ops's admins", "note": "costs $5 `now`"})),
                    binds: Some(Binding { var: "group_ops".into(), field: "id".into() }),
                },
                Call {
                    title: "Find the policy".into(),
                    service: Service::Arm,
                    method: "GET",
                    path: "/subscriptions/s1/providers/Microsoft.Authorization/roleManagementPolicyAssignments?api-version=2020-10-01&$filter=roleDefinitionId eq 'x'".into(),
                    body: None,
                    binds: Some(Binding { var: "policy_reader".into(), field: "value.0.properties.policyId".into() }),
                },
                Call {
                    title: "Use both".into(),
                    service: Service::Arm,
                    method: "PATCH",
                    path: "{{policy_reader}}?api-version=2020-10-01".into(),
                    body: Some(json!({"principalId": "{{group_ops}}"})),
                    binds: None,
                },
            ],
            notes: vec!["the hook 'tickets' (Lua)".into()],
        }
    }

    fn text(format: Format) -> String {
        let mut out = Vec::new();
        write(&sample(), format, "header", &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn az_lines_quote_for_the_shell_and_splice_variables() {
        let t = text(Format::Az);
        assert!(
            t.contains("group_ops=$(az rest --method post --url 'https://graph.microsoft.com/v1.0/groups'"),
            "{t}"
        );
        assert!(t.contains(r#""displayName":"Ops'\''s admins""#), "{t}");
        assert!(t.contains(r#"--query 'value[0].properties.policyId' --output tsv)"#), "{t}");
        assert!(t.contains(r#"--url 'https://management.azure.com'"$policy_reader"'?api-version"#), "{t}");
        assert!(t.contains(r#"{"principalId":"'"$group_ops"'"}"#), "{t}");
    }

    #[test]
    fn powershell_escapes_dollars_and_backticks_but_not_its_own_variables() {
        let t = text(Format::PowerShell);
        assert!(t.contains("costs `$5 ``now``"), "{t}");
        assert!(t.contains("`$filter=roleDefinitionId"), "{t}");
        assert!(t.contains("\"principalId\": \"$(group_ops)\""), "{t}");
        assert!(t.contains("$policy_reader = ((Invoke-AzRestMethod -Method GET"), "{t}");
        assert!(t.contains(").Content | ConvertFrom-Json).value[0].properties.policyId"), "{t}");
    }

    #[test]
    fn http_files_name_requests_and_read_their_responses() {
        let t = text(Format::Http);
        assert!(t.contains("# @name group_ops\nPOST {{graph}}/v1.0/groups"), "{t}");
        assert!(
            t.contains("PATCH {{arm}}{{policy_reader.response.body.$.value[0].properties.policyId}}?api"),
            "{t}"
        );
        assert!(t.contains("\"principalId\": \"{{group_ops.response.body.$.id}}\""), "{t}");
    }

    #[test]
    fn every_format_lists_what_cannot_be_exported() {
        for f in [Format::Graph, Format::Http, Format::PowerShell, Format::Az] {
            assert!(text(f).contains("# Not exported: the hook 'tickets' (Lua)"), "{f:?}");
        }
    }

    /// Runs an `az` plan with a stand-in `az` (a shell function that reports each argument,
    /// ended by a NUL, each call ended by \x01, and answers `ID-1`), and returns each call's
    /// arguments.
    fn run_az(plan: &Plan) -> Vec<Vec<String>> {
        let mut script = String::from(
            "az() { for a in \"$@\"; do printf '%s\\000' \"$a\" >&2; done; printf '\\001' >&2; echo ID-1; }\n",
        );
        let mut out = Vec::new();
        write(plan, Format::Az, "test", &mut out).unwrap();
        script.push_str(&String::from_utf8(out).unwrap());
        let run = std::process::Command::new("sh").arg("-c").arg(&script).output().expect("sh runs");
        assert!(run.status.success(), "{}\n{script}", String::from_utf8_lossy(&run.stderr));
        String::from_utf8(run.stderr)
            .unwrap()
            .split('\u{1}')
            .filter(|c| !c.is_empty())
            .map(|c| c.split_terminator('\0').map(str::to_string).collect())
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Whatever a user's text holds (quotes, `$`, backticks, braces, newlines), the shell
        /// hands `az` exactly the JSON the plan means, with an earlier call's answer spliced in.
        #[test]
        fn az_lines_give_az_the_plan_s_own_json(name in "[ -~\n\u{e9}\u{2014}]{0,24}") {
            let plan = Plan {
                calls: vec![
                    Call {
                        title: format!("Create {name}"),
                        service: Service::Graph,
                        method: "POST",
                        path: "/v1.0/groups".into(),
                        body: Some(json!({"displayName": name})),
                        binds: Some(Binding { var: "group_x".into(), field: "id".into() }),
                    },
                    Call {
                        title: "Use it".into(),
                        service: Service::Graph,
                        method: "POST",
                        path: format!("/v1.0/groups/{}/members/$ref?$filter=x eq '{}'", super::super::plan::reference("group_x"), name.replace('\n', " ")),
                        body: Some(json!({"principalId": super::super::plan::reference("group_x"), "note": name})),
                        binds: None,
                    },
                ],
                notes: Vec::new(),
            };
            let calls = run_az(&plan);
            proptest::prop_assert_eq!(calls.len(), 2);
            let body = |c: &Vec<String>| -> Value {
                let i = c.iter().position(|a| a == "--body").unwrap();
                serde_json::from_str(&c[i + 1]).unwrap()
            };
            proptest::prop_assert_eq!(body(&calls[0]), json!({"displayName": name}));
            proptest::prop_assert_eq!(body(&calls[1]), json!({"principalId": "ID-1", "note": name}));
            let url = &calls[1][calls[1].iter().position(|a| a == "--url").unwrap() + 1];
            let want = format!("https://graph.microsoft.com/v1.0/groups/ID-1/members/$ref?$filter=x eq '{}'", name.replace('\n', " "));
            proptest::prop_assert_eq!(url, &want);
        }
    }
}
