//! The Athena `load` program: only `bench_workloads::LOAD_PROGRAM`'s
//! workloads (see `lib.rs` for the ABI).

#![no_std]
#![no_main]

bench_guest_athena::guest!(bench_guest_athena::bench_workloads::run_load_program);
