//! The full CKB-VM guest: every workload (see `lib.rs` for the ABI).

#![no_std]
#![no_main]

bench_guest_ckbvm::guest!(bench_guest_ckbvm::bench_workloads::run);
