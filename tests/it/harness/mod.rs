//! The shared test harness.

pub mod cli;
