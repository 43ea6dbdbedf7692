//! One module per subcommand, each a clap struct and a `run`.

pub mod completions;
pub mod diff;
pub mod export;
pub mod history;
pub mod html;
pub mod import;
pub mod inspect;
pub mod merge;
pub mod pack;
pub mod record;
pub mod site;
pub mod unpack;
pub mod verify;
pub mod view;
