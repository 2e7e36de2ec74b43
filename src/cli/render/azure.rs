//! The Azure estate for a reader: scopes as a table, one scope in its place, the tree.

use std::io::{self, Write};

use super::{finish, table};
use crate::model::azure_scope::AzureScopeNode;
use crate::ops::{Outcome, ScopeTree};

pub(super) fn render(outcome: &Outcome, out: &mut dyn Write) -> io::Result<()> {
    match outcome {
        Outcome::ScopeAdded(n) => {
            writeln!(out, "Added {} '{}'", n.scope.kind(), n.display_name)?;
            writeln!(out, "  {}", n.scope)?;
            if let Some(p) = &n.parent {
                writeln!(out, "  under {p}")?;
            }
            Ok(())
        }
        Outcome::Scopes(rows) => {
            let mut t = table(&["kind", "name", "path"]);
            for n in rows {
                t.add_row(vec![n.scope.kind().as_str(), n.display_name.as_str(), n.scope.path()]);
            }
            writeln!(out, "{}", finish(&t))
        }
        Outcome::Scope { node, ancestors, children } => {
            writeln!(out, "{} '{}'", node.scope.kind(), node.display_name)?;
            writeln!(out, "  path   {}", node.scope)?;
            if let Some(t) = node.scope.resource_type() {
                writeln!(out, "  type   {t}")?;
            }
            let chain: Vec<String> = ancestors.iter().map(label).collect();
            writeln!(
                out,
                "  within {}",
                if chain.is_empty() { "(the top of the estate)".into() } else { chain.join(" < ") }
            )?;
            if children.is_empty() {
                writeln!(out, "  nothing under it")
            } else {
                writeln!(out, "  under it:")?;
                for c in children {
                    writeln!(out, "    {}  {}", label(c), c.scope)?;
                }
                Ok(())
            }
        }
        Outcome::ScopeTree(tree) => {
            writeln!(out, "{}  {}", label(&tree.node), tree.node.scope)?;
            branches(&tree.children, "", out)
        }
        _ => Ok(()),
    }
}

/// `Name (kind)`.
fn label(n: &AzureScopeNode) -> String {
    format!("{} ({})", n.display_name, n.scope.kind())
}

/// The children of a tree node, drawn with box-drawing branches under `prefix`.
fn branches(children: &[ScopeTree], prefix: &str, out: &mut dyn Write) -> io::Result<()> {
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        let (branch, next) = if last { ("└── ", "    ") } else { ("├── ", "│   ") };
        writeln!(out, "{prefix}{branch}{}", label(&child.node))?;
        branches(&child.children, &format!("{prefix}{next}"), out)?;
    }
    Ok(())
}
