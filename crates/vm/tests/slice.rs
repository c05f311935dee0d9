//! `Machine::run_fast_slice`: a run cut into slices of any size, each pause
//! continued by the sliced fast interpreter, the plain fast interpreter or
//! the reference interpreter, must end exactly like one reference run
//! (outcome with gas and instruction count, registers, pc, output, memory,
//! and what syscalls observed of the gas left).

use athena_test_elf::asm::{b_type, i_type, j_type, r_type, s_type};
use athena_vm::{
    CollectingEnvironment, Environment, Machine, MachineConfig, Program, RegisterSet, Segment, SyscallContext,
    SyscallError, SyscallOutcome,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const CODE_BASE: u32 = 0x1_0000;
const DATA_BASE: u32 = 0x4_0000;
/// A host syscall that charges `a0 & 0xff` gas and returns the gas left
/// (low 32 bits) in `a0`: it fails the test if a syscall sees the slice
/// instead of the run's gas.
const GAS_PROBE: u32 = 0x100;

/// Records every gas-left value the probe saw.
#[derive(Default, Debug, PartialEq, Eq)]
struct Env {
    inner: CollectingEnvironment,
    seen: Vec<u64>,
}

impl Environment for Env {
    fn input(&self) -> &[u8] {
        self.inner.input()
    }

    fn write(&mut self, fd: u32, bytes: &[u8]) {
        self.inner.write(fd, bytes);
    }

    fn syscall(&mut self, number: u32, ctx: &mut SyscallContext<'_>) -> Result<SyscallOutcome, SyscallError> {
        if number != GAS_PROBE {
            return Err(ctx.invalid("unknown"));
        }
        ctx.charge(u64::from(ctx.arg(0) & 0xff))?;
        self.seen.push(ctx.gas_left());
        ctx.set_result(ctx.gas_left() as u32);
        Ok(SyscallOutcome::Continue)
    }
}

/// A random program: loops and calls over ALU, M and memory instructions
/// (through `x3`, at the start of the data, and `x4`, a page with no data
/// yet, so stores allocate pages and pay for them), syscalls (`WRITE`,
/// `INPUT_READ`, `HALT`, the gas probe) and the odd raw word.
fn random_program(rng: &mut SmallRng, regs: RegisterSet, len: usize) -> Vec<u32> {
    let nregs = if regs == RegisterSet::Rv32e { 16 } else { 32 };
    let reg = |rng: &mut SmallRng| rng.gen_range(5..nregs);
    let mut words = vec![
        (DATA_BASE & 0xffff_f000) | (3 << 7) | 0x37,            // lui x3, DATA_BASE
        ((DATA_BASE + 0x2000) & 0xffff_f000) | (4 << 7) | 0x37, // lui x4, DATA_BASE + 0x2000
    ];
    while words.len() < len {
        let at = words.len() as i32;
        let w = match rng.gen_range(0..100) {
            0..=29 => i_type(rng.gen_range(-2048..2048), reg(rng), [0, 4, 6, 7][rng.gen_range(0..4)], reg(rng), 0x13),
            30..=44 => r_type([0, 1][rng.gen_range(0..2)], reg(rng), reg(rng), rng.gen_range(0..8), reg(rng)),
            45..=54 => i_type(rng.gen_range(0..256) * 4, if rng.gen_bool(0.7) { 3 } else { 4 }, 2, reg(rng), 0x03),
            55..=69 => {
                let base = if rng.gen_bool(0.5) { 3 } else { 4 };
                s_type(rng.gen_range(0..1024) * 4 + rng.gen_range(0..2) * 0x1000, reg(rng), base, 2)
            }
            70..=81 => {
                // Mostly backward branches: loops.
                let target = rng.gen_range((at - 12).max(2)..len as i32);
                b_type((target - at) * 4, reg(rng), reg(rng), [0, 1, 4, 5, 6, 7][rng.gen_range(0..6)])
            }
            82..=85 => j_type((rng.gen_range(2..len as i32) - at) * 4, if rng.gen_bool(0.5) { 1 } else { 0 }),
            86..=87 => i_type(0, 1, 0, if rng.gen_bool(0.5) { 1 } else { 0 }, 0x67), // jalr (return)
            88..=97 => {
                let num = [2, 4, 0, GAS_PROBE, GAS_PROBE][rng.gen_range(0..5)] as i32;
                words.push(i_type(num, 0, 0, 5, 0x13));
                match num as u32 {
                    2 => {
                        words.push(i_type(1, 0, 0, 10, 0x13));
                        words.push(i_type(0, 3, 0, 11, 0x13));
                        words.push(i_type(rng.gen_range(0..64), 0, 0, 12, 0x13));
                    }
                    4 => {
                        words.push(i_type(0x40, 4, 0, 10, 0x13));
                        words.push(i_type(0, 0, 0, 11, 0x13));
                        words.push(i_type(rng.gen_range(0..64), 0, 0, 12, 0x13));
                    }
                    0 if rng.gen_bool(0.8) => words.push(0x13), // mostly no halt: nop
                    _ => words.push(i_type(rng.gen_range(0..200), 0, 0, 10, 0x13)),
                }
                0x73
            }
            _ => rng.gen(),
        };
        words.push(w);
    }
    words.truncate(len);
    words
}

/// What a finished run leaves: outcome, registers, pc, output and probe
/// readings, and the data pages.
fn state(machine: &Machine<'_>, outcome: athena_vm::Outcome, env: Env) -> (String, Vec<u32>, u32, Env, Vec<u8>) {
    let mut data = vec![0; 0x4000];
    machine.memory().read_bytes(DATA_BASE, &mut data);
    (format!("{outcome:?}"), machine.registers().to_vec(), machine.pc(), env, data)
}

/// How a pause is continued.
#[derive(Clone, Copy, Debug)]
enum Continue {
    /// Another slice of random size (0 to 100 gas: enough, now and then,
    /// for a store that allocates a page), and so on.
    Sliced,
    /// The fast interpreter to the end.
    Fast,
    /// The reference interpreter to the end.
    Reference,
}

#[test]
fn sliced_runs_match_the_reference_at_every_pause() {
    let mut rng = SmallRng::seed_from_u64(0x511ce);
    let data =
        Segment { vaddr: DATA_BASE, mem_size: 0x4000, data: vec![0x5a; 0x100], executable: false, writable: true };
    let (mut pauses, mut probes, mut paused_then_out_of_gas) = (0u64, 0u64, 0u64);
    for case in 0..3000 {
        let regs = if case % 2 == 0 { RegisterSet::Rv32e } else { RegisterSet::Rv32i };
        let len = rng.gen_range(8..120);
        let words = random_program(&mut rng, regs, len);
        let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let text =
            Segment { vaddr: CODE_BASE, mem_size: code.len() as u32, data: code, executable: true, writable: false };
        let program = Program::from_segments(CODE_BASE, regs, vec![text, data.clone()]).expect("valid");
        for gas in [rng.gen_range(0..100), rng.gen_range(100..2000), rng.gen_range(2000..20_000)] {
            let memory_limit = if rng.gen_bool(0.2) { 0x5000 } else { 1 << 20 };
            let config = MachineConfig { gas_limit: gas, memory_limit };
            let input = b"slice input".to_vec();
            let fresh_env = || Env { inner: CollectingEnvironment::with_input(input.clone()), seen: Vec::new() };

            let mut machine = Machine::new(&program, config).expect("instantiate");
            let mut env = fresh_env();
            let outcome = machine.run(&mut env);
            probes += env.seen.len() as u64;
            let reference = state(&machine, outcome, env);

            let how = [Continue::Sliced, Continue::Fast, Continue::Reference][case % 3];
            let mut machine = Machine::new(&program, config).expect("instantiate");
            let mut env = fresh_env();
            let mut paused = false;
            let outcome = loop {
                match machine.run_fast_slice(&mut env, rng.gen_range(0..100)) {
                    Some(outcome) => break outcome,
                    None => {
                        pauses += 1;
                        paused = true;
                        match how {
                            Continue::Sliced => continue,
                            Continue::Fast => break machine.run_fast(&mut env),
                            Continue::Reference => break machine.run(&mut env),
                        }
                    }
                }
            };
            if paused && outcome.exit == athena_vm::Exit::OutOfGas {
                paused_then_out_of_gas += 1;
            }
            let sliced = state(&machine, outcome, env);
            assert_eq!(reference, sliced, "case {case} gas {gas} {how:?} words {words:08x?}");
        }
    }
    // The test is only as good as the pauses it saw.
    assert!(pauses > 20_000, "{pauses} pauses");
    assert!(probes > 1_000, "{probes} gas probes");
    assert!(paused_then_out_of_gas > 500, "{paused_then_out_of_gas} runs out of gas after a pause");
}

/// A slice that ends exactly where the gas does: the real out-of-gas, not
/// a pause, at every gas limit of a loop with a page-allocating store.
#[test]
fn out_of_gas_at_the_slice_boundary_is_not_a_pause() {
    // x5 = 0; loop: sw x5, 0(x4); addi x4, x4, 1024; addi x5, x5, 1; j loop
    let words = [
        ((DATA_BASE + 0x2000) & 0xffff_f000) | (4 << 7) | 0x37,
        s_type(0, 5, 4, 2),
        i_type(1024, 4, 0, 4, 0x13),
        i_type(1, 5, 0, 5, 0x13),
        j_type(-12, 0),
    ];
    let program = Program::from_words(CODE_BASE, &words, RegisterSet::Rv32e).expect("valid");
    let data = |m: &Machine<'_>| m.registers().to_vec();
    for gas in 0..700 {
        let config = MachineConfig { gas_limit: gas, memory_limit: 1 << 20 };
        let mut reference = Machine::new(&program, config).expect("instantiate");
        let expected = reference.run(&mut Env::default());
        for slice in [gas, gas.saturating_sub(1), gas.saturating_sub(2), gas / 2] {
            let mut machine = Machine::new(&program, config).expect("instantiate");
            let mut env = Env::default();
            let outcome = match machine.run_fast_slice(&mut env, slice) {
                Some(outcome) => outcome,
                None => {
                    // A pause stands before an instruction the gas left
                    // pays for (not a disguised out-of-gas; its page may
                    // still not be affordable).
                    let cost = if machine.pc() == CODE_BASE + 4 { 2 } else { 1 };
                    assert!(machine.gas_left() >= cost, "gas {gas} slice {slice}: paused at {:#x}", machine.pc());
                    machine.run_fast(&mut env)
                }
            };
            assert_eq!(outcome, expected, "gas {gas} slice {slice}");
            assert_eq!(data(&machine), data(&reference), "gas {gas} slice {slice}");
        }
    }
}
