//! The studio page in a real browser.
