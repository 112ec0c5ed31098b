//! Integration tests: one binary, a module per area.

mod cli;
mod properties;
mod tone;
mod util;
