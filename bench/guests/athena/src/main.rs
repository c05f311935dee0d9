//! The full Athena guest: every workload (see `lib.rs` for the ABI).

#![no_std]
#![no_main]

bench_guest_athena::guest!(bench_guest_athena::bench_workloads::run);
