//! The PolkaVM `load` program: only `bench_workloads::LOAD_PROGRAM`'s
//! workloads (see `lib.rs`).

#![no_std]
#![no_main]

bench_guest_polkavm::guest!(bench_guest_polkavm::bench_workloads::run_load_program);
