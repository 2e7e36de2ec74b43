//! The store's fidelity profile: reading it, and turning one switch on or off (see
//! `model::fidelity` for the switches). Every transaction reads the profile with the clock
//! (`Ctx::fidelity`), so a switch turned on in one process is obeyed by the next request of any.

use super::audit::{About, Activity, Audit, Entry};
use super::{Engine, Session};
use crate::model::{ApiError, FidelityProfile, FidelitySwitch};

/// The meta key that holds the profile (the names of the switches that are on).
const META_KEY: &str = "fidelity";

impl Engine {
    /// The store's fidelity profile.
    pub fn fidelity(&mut self) -> Result<FidelityProfile, ApiError> {
        self.read(|_, ctx| Ok(ctx.fidelity))
    }

    /// Turns `switch` on or off; returns the profile as it now is. A switch already as asked
    /// changes nothing and writes no audit row. A lab setting, not a tenant action: any caller may.
    pub fn set_fidelity(
        &mut self,
        session: &Session,
        switch: FidelitySwitch,
        on: bool,
    ) -> Result<FidelityProfile, ApiError> {
        self.write(|tx, ctx| {
            let profile = ctx.fidelity.with(switch, on);
            if profile == ctx.fidelity {
                return Ok((profile, Audit::none("the switch was already as asked")));
            }
            tx.set_meta(META_KEY, &profile.to_stored())?;
            let activity = Activity::FidelitySwitched { switch, on };
            let row = Entry::new(tx, ctx, &session.caller, activity, About::Targets(Vec::new()))?;
            Ok((profile, Audit::of(row)))
        })
    }
}
