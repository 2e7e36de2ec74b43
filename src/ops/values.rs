//! Typed argument values, parsed once at the edge: by clap value parsers on the command line and
//! by serde when a script passes a table. Durations, times and tickets reach operations typed;
//! principals, roles and scopes stay text until an operation resolves them against the tenant.

use serde::{Deserialize, Deserializer};

use crate::model::time::{parse_human_duration, parse_timestamp};
use crate::model::{IsoDuration, TicketInfo, Timestamp};

/// `PT8H`, `P30D`, or the short forms `8h`, `30d`.
pub fn duration(text: &str) -> Result<IsoDuration, String> {
    parse_human_duration(text)
}

/// An ISO 8601 date-time.
pub fn time(text: &str) -> Result<Timestamp, String> {
    parse_timestamp(text)
}

/// `SYSTEM:NUMBER` (`ServiceNow:INC0012345`), or a bare number.
pub fn ticket(text: &str) -> Result<TicketInfo, String> {
    Ok(match text.split_once(':') {
        Some((system, number)) => TicketInfo {
            system: Some(system.trim().to_string()),
            number: Some(number.trim().to_string()),
            ..TicketInfo::default()
        },
        None => TicketInfo { number: Some(text.trim().to_string()), ..TicketInfo::default() },
    })
}

/// A status name such as `Provisioned` (the names the service writes).
pub fn status(text: &str) -> Result<crate::model::Status, String> {
    crate::model::Status::parse(text).ok_or_else(|| {
        let all: Vec<&str> = crate::model::Status::ALL.iter().map(|s| s.as_str()).collect();
        format!("'{text}' is not a status (one of {})", all.join(", "))
    })
}

/// A switch of the fidelity profile, by name.
pub fn fidelity_switch(text: &str) -> Result<crate::model::FidelitySwitch, String> {
    crate::model::FidelitySwitch::parse(text).ok_or_else(|| {
        format!("'{text}' is not a fidelity switch (one of {})", crate::model::FidelitySwitch::names())
    })
}

/// Serde adapters for the same values, for arguments that arrive as a script's table.
pub(crate) mod de {
    use super::*;

    fn parsed<'de, D, T>(d: D, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
    {
        match Option::<String>::deserialize(d)? {
            Some(text) => parse(&text).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }

    pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IsoDuration>, D::Error> {
        parsed(d, super::duration)
    }

    pub fn required_duration<'de, D: Deserializer<'de>>(d: D) -> Result<IsoDuration, D::Error> {
        super::duration(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        parsed(d, super::time)
    }

    pub fn required_time<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        super::time(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    pub fn ticket<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TicketInfo>, D::Error> {
        parsed(d, super::ticket)
    }

    pub fn status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<crate::model::Status>, D::Error> {
        parsed(d, super::status)
    }

    /// One value or a list of them (`approver = "kenji"` or `approver = {"kenji", "lena"}`).
    pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Option::<OneOrMany>::deserialize(d)? {
            None => Vec::new(),
            Some(OneOrMany::One(s)) => vec![s],
            Some(OneOrMany::Many(v)) => v,
        })
    }

    /// JSON given as text or as a value (a script's table): the text of it either way.
    pub fn json_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Option::<serde_json::Value>::deserialize(d)? {
            None => None,
            Some(serde_json::Value::String(s)) => Some(s),
            Some(other) => Some(other.to_string()),
        })
    }

    pub fn required_json_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        json_text(d)?.ok_or_else(|| serde::de::Error::custom("a JSON body is required"))
    }

    pub fn fidelity_switch<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<crate::model::FidelitySwitch, D::Error> {
        super::fidelity_switch(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    /// `true`/`false`, or the text `on`/`off` a command line takes.
    pub fn on_off<'de, D: Deserializer<'de>>(d: D) -> Result<crate::ops::OnOff, D::Error> {
        use crate::ops::OnOff;
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Flag {
            Bool(bool),
            Text(String),
        }
        match Flag::deserialize(d)? {
            Flag::Bool(b) => Ok(if b { OnOff::On } else { OnOff::Off }),
            Flag::Text(t) if t.eq_ignore_ascii_case("on") => Ok(OnOff::On),
            Flag::Text(t) if t.eq_ignore_ascii_case("off") => Ok(OnOff::Off),
            Flag::Text(t) => Err(serde::de::Error::custom(format!("'{t}' is not on or off"))),
        }
    }

    pub fn root_scope() -> String {
        "/".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_without_a_system_is_a_bare_number() {
        assert_eq!(
            ticket("INC1").unwrap(),
            TicketInfo { number: Some("INC1".into()), ..TicketInfo::default() }
        );
        assert_eq!(
            ticket("ServiceNow: INC1").unwrap(),
            TicketInfo {
                system: Some("ServiceNow".into()),
                number: Some("INC1".into()),
                ..TicketInfo::default()
            }
        );
    }

    #[test]
    fn an_unknown_status_names_the_valid_ones() {
        let e = status("Approved").unwrap_err();
        assert!(e.contains("'Approved'") && e.contains("PendingApproval"), "{e}");
    }
}
