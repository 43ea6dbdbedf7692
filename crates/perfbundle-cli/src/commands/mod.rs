//! One module per subcommand, each a clap struct and a `run`.

pub mod export;
pub mod host;
pub mod inspect;
pub mod pack;
pub mod profiles;
pub mod unpack;
pub mod verify;
pub mod view;
