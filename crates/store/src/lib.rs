//! # athena-store
//!
//! The node's persistent state: the committed accounts, program states,
//! storage slots and templates the runtime executes against, stored in a
//! crash-safe embedded database, with an authenticated state root and
//! proofs a client can check.
//!
//! * [`Store`]: implements [`athena_runtime::StateReader`] (execution reads)
//!   and [`athena_runtime::StateWriter`]; [`Store::commit_block`] applies a
//!   block's [`athena_runtime::ChangeSet`], the new state-tree nodes and the
//!   block's metadata in one atomic transaction, at consecutive heights.
//!   After a crash at any point the store reopens at exactly the last
//!   committed block.
//! * [`backend`]: the database seam (three small traits); [`RedbBackend`]
//!   (redb, the default) is the only implementation and holds all
//!   redb-specific code.
//! * The state root is a Jellyfish Merkle tree (the `jmt` crate, SHA-256)
//!   over one leaf per account, non-empty program state, non-zero storage
//!   slot and template; [`encoding`] defines the leaves. The root depends
//!   only on the state's contents ([`root_of_contents`] computes it from
//!   scratch).
//! * [`proof`]: [`Store::prove_account`] / [`Store::prove_storage`] /
//!   [`Store::prove_program_state`] return a
//!   value with an inclusion or non-inclusion proof; [`verify`] checks one
//!   against a trusted root without a database.
//! * [`Store::prune`]: deletes tree nodes and leaf values only old heights
//!   need, in bounded crash-safe batches; proofs below the floor then fail
//!   with [`StoreError::Pruned`].
//!
//! ```
//! use athena_interface::{Address, Bytes32};
//! use athena_runtime::{Account, ChangeSet, StateReader};
//! use athena_store::{BlockMeta, Store};
//!
//! let store = Store::in_memory().unwrap();
//! let alice = Address::new([1; 24]);
//! let mut genesis = ChangeSet::default();
//! genesis.accounts.insert(alice, Account { balance: 100, ..Account::default() });
//! let root = store.commit_block(0, &genesis, &BlockMeta::default()).unwrap();
//! assert_eq!(store.account(&alice).unwrap().unwrap().balance, 100);
//!
//! let proof = store.prove_account(&alice, None).unwrap();
//! assert!(proof.verify(&root, &alice));
//! ```
//!
//! The normative description (tables, commit protocol, leaf encoding, proof
//! format, test vector) is `docs/store.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod backend;
pub mod encoding;
pub mod proof;
mod prune;
mod redb_backend;
pub mod redb_file;
mod store;
mod tree;

pub use encoding::LeafKey;
pub use proof::{
    verify, AccountProof, LeafProof, ProgramStateProof, ProofDecodeError, StateProof, StateRoot, StorageProof,
};
pub use prune::{PruneReport, PRUNE_BATCH};
pub use redb_backend::{RedbBackend, RedbRead, RedbWrite};
pub use store::{BlockMeta, CommittedBlock, Snapshot, Store, StoreError, SCHEMA_VERSION};
pub use tree::{leaves_of, root_of_contents};
