//! kvq-core: Deno KV's data model and durable queues on SQLite, in Deno's
//! own file format, with group commit, leased batch delivery, and
//! cross-process wake-ups.
//!
//! [`Store`] is the engine's API; [`engine`] holds it, the scheduling
//! written once, and the [`Backend`] trait every storage implements;
//! [`sqlite`] is the first backend. [`ops`] is the bytes-in, bytes-out layer
//! the N-API and FFI bindings call; [`wire`] is the format of those bytes.

mod encoding;
pub mod engine;
pub mod error;
pub mod limits;
/// Public for the Deno binding's completion thread, which lingers the same way.
pub mod linger;
pub mod ops;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "remote")]
pub mod remote;
pub mod sqlite;
mod sum;
pub mod wire;
pub mod wire_inspect;
pub mod wire_named;

pub use denokv_proto::AtomicWrite;
pub use denokv_proto::Check;
pub use denokv_proto::Enqueue;
pub use denokv_proto::KvEntry;
pub use denokv_proto::KvValue;
pub use denokv_proto::Mutation;
pub use denokv_proto::MutationKind;
pub use denokv_proto::ReadRange;
pub use denokv_proto::ReadRangeOutput;
pub use denokv_proto::Versionstamp;
pub use engine::Backend;
pub use engine::Durability;
pub use engine::OpenOptions;
pub use engine::Outcome;
pub use engine::QueueMessage;
pub use engine::Reply;
pub use engine::StatsSnapshot;
pub use engine::Store;
pub use engine::WatchCanceller;
pub use engine::Watcher;
pub use error::Error;
pub use error::JsClass;
pub use error::Result;
pub use limits::Limits;
pub use sqlite::DEFAULT_BACKOFF_SCHEDULE;

/// Deno's key codec (denokv_proto), re-exported for tests and tools.
pub use denokv_proto::decode_key;
pub use denokv_proto::encode_key;
pub use denokv_proto::Key;
pub use denokv_proto::KeyPart;
