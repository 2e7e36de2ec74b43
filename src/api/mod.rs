//! The Graph and ARM surfaces: routing, OData, JSON views, error envelopes. Used by the CLI,
//! scripts and the HTTP listener alike.

pub mod arm;
pub mod body;
pub mod graph;
pub mod hints;
pub mod odata;
pub mod response;
pub mod shapes;
pub mod views;
