//! Integration tests: one binary, a module per area.

mod backdrop;
mod batch;
mod browser;
mod cli;
mod dots;
mod figures;
mod finish;
mod fuzz;
mod hair;
mod hairline;
mod head;
mod page;
mod preset;
mod properties;
mod provenance;
mod scalp;
mod scar;
mod shades;
mod shape;
mod sheets;
mod studio;
mod studio_page;
mod studio_server;
mod timeline;
mod tone;
mod util;
