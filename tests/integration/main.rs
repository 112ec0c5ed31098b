//! Integration tests: one binary, a module per area.

mod batch;
mod cli;
mod properties;
mod tone;
mod util;
