//! Integration tests: one binary, a module per area.

mod cli;
mod page;
mod properties;
mod provenance;
mod sheets;
mod tone;
mod util;
