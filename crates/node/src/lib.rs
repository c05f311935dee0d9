//! # athena-node
//!
//! The node processes of the Athena rollup (issue #6; `docs/node.md`):
//!
//! * **sequencer** ([`sequencer`], [`base_layer`]): the devnet base layer.
//!   Relays post [`types::Bundle`]s; every interval it orders the queued
//!   ones into a [`types::Block`], persists it and serves it. It also
//!   carries the executors' published [`types::BlockResult`]s, accepting
//!   only those signed with an authorized executor key ([`auth`]). Everything
//!   else talks to it through the [`base_layer::BaseLayer`] trait, the seam
//!   where Spacemesh replaces it.
//! * **executor** ([`executor`], [`follower`], [`chain`], [`exec`]): follows
//!   the blocks in order, applies them deterministically, commits each block
//!   (state, Merkle tree, receipts, indexes) in one atomic redb transaction
//!   ([`backend`]), publishes the result and serves the query API ([`api`]).
//! * **shadow executor**: the same, into its own store, comparing every
//!   published result with its own; reports the first diverging block and
//!   transaction.
//!
//! [`cli`] is `athena node sequencer|executor|shadow|compact` (also the
//! `athena-node` binary); [`compact`] shrinks a stopped executor's database
//! file after pruning. [`types`] holds the data every role exchanges.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod backend;
pub mod base_layer;
pub mod chain;
pub mod cli;
pub mod compact;
pub mod exec;
pub mod executor;
pub mod executor_keys;
pub mod follower;
pub mod genesis;
pub mod http;
#[cfg(feature = "test-hooks")]
pub mod model;
pub mod receipts;
pub mod sequencer;
pub mod sequencer_limits;
pub mod types;
