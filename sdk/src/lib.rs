//! The Hello Chat widget, compiled to WebAssembly.
//!
//! JavaScript (`sdk/js/api.js`) owns the public `HelloChat` object and the
//! event listeners; it creates one [`Widget`] per mounted element. The widget
//! is three parts: the [`view`] (Shadow DOM), the [`socket`] adapter and the
//! [`controller`] that runs the sans-IO `protocol::session::Session` between
//! them. Where the widget reconnects: `protocol/src/session.rs`.

// Shared by both builds: events for the page, options, the socket, listeners.
#[cfg(any(target_arch = "wasm32", test))]
mod alloc;
mod entropy;
mod events;
mod global;
mod listener;
mod options;
mod socket;
mod stored;
mod upload;

// The widget (feature `ui`, the default).
#[cfg(feature = "ui")]
mod actions;
#[cfg(feature = "ui")]
mod attach;
#[cfg(feature = "ui")]
mod controller;
#[cfg(feature = "ui")]
mod downscale;
#[cfg(feature = "ui")]
mod files;
#[cfg(feature = "ui")]
mod mentions;
#[cfg(feature = "ui")]
mod resized;
#[cfg(feature = "ui")]
mod strings;
#[cfg(feature = "ui")]
mod timeout;
#[cfg(feature = "ui")]
mod view;
#[cfg(feature = "ui")]
mod widget;
#[cfg(feature = "ui")]
pub use widget::Widget;

// The client without a DOM (feature `headless`, its own wasm).
#[cfg(feature = "headless")]
mod headless;
#[cfg(feature = "headless")]
pub use headless::Client;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator::new();
