//! What both targets share: the environment (with a host function), one
//! observed run, and the JIT-versus-reference comparison.

use athena_jit::JitProgram;
use athena_vm::memory::{PAGE_SIZE, STACK_TOP};
use athena_vm::{
    CollectingEnvironment, Environment, Exit, Machine, MachineConfig, Outcome, Program, SyscallContext, SyscallError,
    SyscallOutcome,
};

/// Collects output and serves syscall 9 as a host function: charges
/// `5 + (a2 & 0xff)` gas, writes 8 bytes at `a0` (checked), sets `a0`/`a1`;
/// halts with code 77 when `a2 & 0xff` is 13. Every other number goes to
/// [`CollectingEnvironment`].
#[derive(Debug, PartialEq, Eq)]
pub struct FuzzEnv(pub CollectingEnvironment);

impl Environment for FuzzEnv {
    fn input(&self) -> &[u8] {
        self.0.input()
    }
    fn write(&mut self, fd: u32, bytes: &[u8]) {
        self.0.write(fd, bytes);
    }
    fn syscall(&mut self, number: u32, ctx: &mut SyscallContext<'_>) -> Result<SyscallOutcome, SyscallError> {
        if number != 9 {
            return self.0.syscall(number, ctx);
        }
        let n = ctx.arg(2) & 0xff;
        ctx.charge(5 + u64::from(n))?;
        if n == 13 {
            return Ok(SyscallOutcome::Halt { code: 77 });
        }
        ctx.write_memory(ctx.arg(0), &[1, 2, 3, 4, 5, 6, 7, 8])?;
        let (a, b) = (ctx.arg(1).wrapping_mul(3), ctx.gas_left() as u32);
        ctx.set_results(a, b);
        Ok(SyscallOutcome::Continue)
    }
}

/// Everything a run leaves behind that the two engines must agree on.
#[derive(Debug, PartialEq, Eq)]
pub struct Observed {
    pub outcome: Outcome,
    pub registers: Vec<u32>,
    pub pc: u32,
    pub env: FuzzEnv,
    pub allocated_pages: u32,
    /// FNV-1a over the allocated pages among `watched` (code and the top
    /// of the stack), so a wrong store there shows up.
    pub digest: u64,
}

fn digest(machine: &Machine<'_>, watched: &[u32]) -> u64 {
    let memory = machine.memory();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut page = vec![0u8; PAGE_SIZE as usize];
    for &p in watched {
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

/// Runs `program` with `jit` (or the reference interpreter when `None`);
/// `None` when the machine cannot be instantiated (image over the limit).
pub fn observe(jit: Option<&JitProgram>, program: &Program, config: MachineConfig, code: &[u32]) -> Option<Observed> {
    let mut machine = Machine::new(program, config).ok()?;
    let mut env = FuzzEnv(CollectingEnvironment::with_input(b"jit fuzz input".to_vec()));
    let outcome = match jit {
        Some(jit) => jit.run(&mut machine, &mut env),
        None => machine.run(&mut env),
    };
    let mut watched: Vec<u32> = code.to_vec();
    watched.extend((1..=4).map(|i| STACK_TOP - i * PAGE_SIZE));
    Some(Observed {
        outcome,
        registers: machine.registers().to_vec(),
        pc: machine.pc(),
        env,
        allocated_pages: machine.memory().allocated_pages(),
        digest: digest(&machine, &watched),
    })
}

/// Compiles `program`, runs it on both engines with `config` and asserts
/// they agree exactly, plus the gas invariants. `code` lists page
/// addresses whose contents are compared too.
pub fn check(program: &Program, config: MachineConfig, code: &[u32]) {
    let jit = JitProgram::compile(program).expect("the JIT compiles every loadable program");
    let reference = observe(None, program, config, code);
    let native = observe(Some(&jit), program, config, code);
    assert_eq!(reference, native, "JIT and reference interpreter disagree");
    if let Some(r) = reference {
        assert!(r.outcome.gas_used <= config.gas_limit, "{:?}", r.outcome);
        if r.outcome.exit == Exit::OutOfGas {
            assert_eq!(r.outcome.gas_used, config.gas_limit, "{:?}", r.outcome);
        }
    }
}

/// The gas limit a target's few trailing bytes choose: none, the default
/// 20,000; otherwise their little-endian value modulo 20,001, so metering
/// is exercised at every cut-off point.
pub fn gas_limit(tail: &[u8]) -> u64 {
    if tail.is_empty() {
        return 20_000;
    }
    let mut v = 0u64;
    for (i, &b) in tail.iter().enumerate() {
        v |= u64::from(b) << (8 * i);
    }
    v % 20_001
}
