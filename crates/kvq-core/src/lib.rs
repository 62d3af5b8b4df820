//! kvq-core: Deno KV's data model and durable queues on SQLite, in Deno's
//! own file format, with group commit, leased batch delivery, and
//! cross-process wake-ups.
//!
//! [`Store`] is the engine's API; [`ops`] is the bytes-in, bytes-out layer
//! the N-API and FFI bindings call; [`wire`] is the format of those bytes.

pub mod error;
pub mod limits;
/// Public for the Deno binding's completion thread, which lingers the same way.
pub mod linger;
pub mod ops;
mod store;
mod sum;
pub mod wire;

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
pub use error::Error;
pub use error::JsClass;
pub use error::Result;
pub use limits::Limits;
pub use store::Durability;
pub use store::OpenOptions;
pub use store::Outcome;
pub use store::QueueMessage;
pub use store::Reply;
pub use store::StatsSnapshot;
pub use store::Store;
pub use store::WatchCanceller;
pub use store::Watcher;
pub use store::DEFAULT_BACKOFF_SCHEDULE;

/// Deno's key codec (denokv_proto), re-exported for tests and tools.
pub use denokv_proto::decode_key;
pub use denokv_proto::encode_key;
pub use denokv_proto::Key;
pub use denokv_proto::KeyPart;
