//! Integration tests: one binary, a module per area.

mod cli;
mod hair;
mod head;
mod properties;
mod scar;
mod timeline;
mod tone;
mod util;
