//! The full PolkaVM guest: every workload (see `lib.rs`).

#![no_std]
#![no_main]

bench_guest_polkavm::guest!(bench_guest_polkavm::bench_workloads::run);
