//! Shared by the differential tests: instruction encoders, the test
//! environment (with a host function) and the JIT-vs-reference comparison.
#![allow(dead_code, unused_imports)] // each test binary uses part of it

use athena_jit::JitProgram;
use athena_vm::{
    CollectingEnvironment, Environment, Machine, MachineConfig, Program, Segment, SyscallContext, SyscallError,
    SyscallOutcome,
};

pub const CODE_BASE: u32 = 0x2_0000;
pub const DATA_BASE: u32 = 0x6_0000;

/// The raw instruction formats, and `li` (always `lui` + `addi`), under
/// the names these tests use.
pub use athena_test_elf::asm::{
    b_type as enc_b, i_type as enc_i, j_type as enc_j, li as load_const, r_type as enc_r, s_type as enc_s,
};

/// A test program's memory image: `code` at [`CODE_BASE`]; `data` at
/// [`DATA_BASE`] in a writable segment of `data_size` bytes (the part past
/// `data` is .bss, allocated and charged on first store); then the
/// read-only bytes `ro` at `DATA_BASE + rodata`. One builder so every test
/// binary lays out its program the same way and differs only in sizes and
/// contents.
pub fn image(code: &[u32], data: Vec<u8>, data_size: u32, rodata: u32, ro: Vec<u8>) -> Vec<Segment> {
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    vec![
        Segment { vaddr: CODE_BASE, mem_size: bytes.len() as u32, data: bytes, executable: true, writable: false },
        Segment { vaddr: DATA_BASE, mem_size: data_size, data, executable: false, writable: true },
        Segment { vaddr: DATA_BASE + rodata, mem_size: ro.len() as u32, data: ro, executable: false, writable: false },
    ]
}

/// `len` bytes of deterministic noise (a multiplicative hash of the index,
/// shifted right by `shift`), so loads read varied, reproducible values.
pub fn noise(len: u32, shift: u32) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(0x9e37_79b1) >> shift) as u8).collect()
}

/// The counted loop of the random generators: `x6 -= 1` pushed onto `w`,
/// then (returned, for the caller's slot) `blt x0, x6` back over `back`
/// earlier instructions and the decrement.
pub fn count_down(w: &mut Vec<u32>, back: i32) -> u32 {
    w.push(enc_i(-1, 6, 0, 6, 0x13));
    enc_b(-(back + 1) * 4, 6, 0, 4) // blt x0, x6, back
}

/// Collects output and, when `host` is set, serves syscall 9 as a host
/// function: charges `5 + a2` gas, writes 8 bytes at `a0` (checked), sets
/// `a0`/`a1`; halts with code 77 when `a2` is 13.
#[derive(Debug, PartialEq, Eq)]
pub struct TestEnv {
    pub inner: CollectingEnvironment,
    pub host: bool,
}

impl Environment for TestEnv {
    fn input(&self) -> &[u8] {
        self.inner.input()
    }
    fn write(&mut self, fd: u32, bytes: &[u8]) {
        self.inner.write(fd, bytes);
    }
    fn syscall(&mut self, number: u32, ctx: &mut SyscallContext<'_>) -> Result<SyscallOutcome, SyscallError> {
        if !self.host || number != 9 {
            return self.inner.syscall(number, ctx);
        }
        ctx.charge(5 + u64::from(ctx.arg(2)))?;
        if ctx.arg(2) == 13 {
            return Ok(SyscallOutcome::Halt { code: 77 });
        }
        let dst = ctx.arg(0);
        ctx.write_memory(dst, &[1, 2, 3, 4, 5, 6, 7, 8])?;
        let (a, b) = (ctx.arg(1).wrapping_mul(3), ctx.gas_left() as u32);
        ctx.set_results(a, b);
        Ok(SyscallOutcome::Continue)
    }
}

pub type Observed = (String, Vec<u32>, u32, TestEnv);

/// The `gas_used` of a run's outcome, read from its `Debug` form (the
/// first element of an [`Observed`]): the tests sweep gas limits up to
/// what a full run used.
pub fn gas_used(outcome: &str) -> u64 {
    outcome
        .split("gas_used: ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.parse().ok())
        .expect("gas_used in the outcome")
}

pub fn observe(jit: Option<&JitProgram>, program: &Program, config: MachineConfig, host: bool) -> Observed {
    let mut machine = Machine::new(program, config).expect("instantiate");
    let mut env = TestEnv { inner: CollectingEnvironment::with_input(b"jit differential input".to_vec()), host };
    let outcome = match jit {
        Some(jit) => jit.run(&mut machine, &mut env),
        None => machine.run(&mut env),
    };
    (format!("{outcome:?}"), machine.registers().to_vec(), machine.pc(), env)
}

pub fn run_jit(jit: &JitProgram, program: &Program, config: MachineConfig) -> Observed {
    observe(Some(jit), program, config, false)
}

pub fn check(program: &Program, jit: &JitProgram, config: MachineConfig, what: &dyn Fn() -> String) {
    check_env(program, jit, config, false, what);
}

pub fn check_env(program: &Program, jit: &JitProgram, config: MachineConfig, host: bool, what: &dyn Fn() -> String) {
    let r = observe(None, program, config, host);
    let j = observe(Some(jit), program, config, host);
    assert_eq!(r.0, j.0, "outcome differs: {}", what());
    assert_eq!(r.1, j.1, "registers differ: {}", what());
    assert_eq!(r.2, j.2, "pc differs: {}", what());
    assert_eq!(r.3, j.3, "output differs: {}", what());
}

/// FNV-1a digest of the allocated pages among `pages` (page addresses) and
/// the allocated page count: a wrong store anywhere in them shows up.
pub fn memory_digest(machine: &Machine<'_>, pages: &[u32]) -> u64 {
    let memory = machine.memory();
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ u64::from(memory.allocated_pages());
    let mut page = vec![0u8; 4096];
    for &p in pages {
        if !memory.is_allocated(p) {
            continue;
        }
        memory.read_bytes(p, &mut page);
        for &b in page.iter().chain(&p.to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// Like [`check_env`], also comparing the memory digest of `pages`.
pub fn check_memory(
    program: &Program,
    jit: &JitProgram,
    config: MachineConfig,
    pages: &[u32],
    what: &dyn Fn() -> String,
) {
    let run = |jit: Option<&JitProgram>| {
        let mut machine = Machine::new(program, config).expect("instantiate");
        let mut env = TestEnv { inner: CollectingEnvironment::with_input(b"stack window input".to_vec()), host: true };
        let outcome = match jit {
            Some(jit) => jit.run(&mut machine, &mut env),
            None => machine.run(&mut env),
        };
        let digest = memory_digest(&machine, pages);
        (format!("{outcome:?}"), machine.registers().to_vec(), machine.pc(), env, digest)
    };
    let (r, j) = (run(None), run(Some(jit)));
    assert_eq!(r.0, j.0, "outcome differs: {}", what());
    assert_eq!(r.1, j.1, "registers differ: {}", what());
    assert_eq!(r.2, j.2, "pc differs: {}", what());
    assert_eq!(r.3, j.3, "output differs: {}", what());
    assert_eq!(r.4, j.4, "memory differs: {}", what());
}
