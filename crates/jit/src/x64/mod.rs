//! The x86-64 back end: code generation (with `dynasmrt`) and the Rust loop
//! that enters native code and handles its exits. See `docs/jit.md`.
//!
//! Host registers inside native code:
//! - `rsp`: the frame (`ctx::Frame`: a copy of the [`Ctx`] block, with
//!   the guest registers not in host registers, gas and count at exits,
//!   and the page cache);
//! - `r13`: the gas/count meter (`ctx::Meter`);
//! - `rbx`: the stack window, `sp + stack_base` (`sp` itself lives in the
//!   frame);
//! - `rbp`, `r12`, `r14`, `r15`, `rsi`, `rdi`, `r8`–`r11`, `rcx`, `rdx`:
//!   guest registers (`plan::RegMap`);
//! - `rax`: scratch (carries the exit kind; the exit pc is in the frame).

// `dynasm!`'s dynamic-register operands (`Rd(n)`) expand to `n.into()`.
#![allow(clippy::useless_conversion)]

mod alu;
mod ctx;
mod emit;
mod plan;
mod routines;

use crate::JitError;
use athena_vm::jit_support::JitStop;
use athena_vm::program::Segment;
use athena_vm::{Environment, Machine, Outcome, Program, RegisterSet};
use ctx::{
    Ctx, Frame, Meter, CACHE_QWORDS, CTX_METER, CTX_ORIGIN, CTX_QWORDS, FRAME_BYTES, NO_TAG, STACK_BASE, STACK_PTR,
};
use dynasmrt::{dynasm, AssemblyOffset, DynasmApi, ExecutableBuffer};
use plan::RegMap;

/// Exit kinds returned in `eax` (with the pc in [`Ctx::pc`], or the trap
/// site in [`Ctx::site`]).
const EXIT_STEP: i32 = 0;
const EXIT_ECALL: i32 = 1;
const EXIT_DISPATCH: i32 = 2;
const EXIT_SITE: i32 = 3;

/// Bytes the trampoline reserves below its six saved registers: the frame
/// plus 8, which keeps `rsp` 16-byte aligned for helper calls.
const FRAME: i32 = FRAME_BYTES + 8;

/// Typical native code bytes per instruction slot (main code, checked
/// copies and stubs); only reserves address space.
const BYTES_PER_SLOT: usize = 48;

/// Signature of the trampoline at the start of the code buffer.
type Enter = unsafe extern "sysv64" fn(ctx: *mut Ctx, entry: *const u8) -> u32;

/// One compiled region: its guest range and, per slot, the meter charge
/// of the run entered there and the native address of its body (also the
/// table the generated `JALR` code indexes).
struct Region {
    start: u32,
    table: Box<[[u64; 2]]>,
}

impl Region {
    #[inline]
    fn slot_of(&self, pc: u32) -> Option<usize> {
        let offset = pc.wrapping_sub(self.start);
        let slot = (offset >> 2) as usize;
        (offset & 3 == 0 && slot < self.table.len()).then_some(slot)
    }
}

/// What the decoded code is a function of: the register set and the
/// executable segments' addresses, sizes and bytes. Compared on every run
/// (a memory comparison of the code bytes, far cheaper than comparing the
/// decoded instructions).
#[derive(PartialEq, Eq)]
struct CodeIdentity {
    registers: RegisterSet,
    segments: Vec<(u32, u32, Vec<u8>)>,
}

impl CodeIdentity {
    fn of(program: &Program) -> Self {
        let segments = program.segments().iter().filter(|s| s.executable).map(Self::key).collect();
        Self { registers: program.registers(), segments }
    }

    fn key(s: &Segment) -> (u32, u32, Vec<u8>) {
        (s.vaddr, s.mem_size, s.data.clone())
    }

    fn matches(&self, program: &Program) -> bool {
        let mut ours = self.segments.iter();
        self.registers == program.registers()
            && program.segments().iter().filter(|s| s.executable).all(|s| {
                ours.next().is_some_and(|(vaddr, size, data)| {
                    *vaddr == s.vaddr && *size == s.mem_size && data.as_slice() == s.data.as_slice()
                })
            })
            && ours.next().is_none()
    }
}

/// A whole program in native form.
pub(crate) struct Compiled {
    /// Owns the executable memory every pointer below points into.
    buffer: ExecutableBuffer,
    /// Address of the buffer's first byte.
    base: usize,
    enter: Enter,
    regions: Vec<Region>,
    /// Every trap site: the offset of its `call`'s return address in the
    /// buffer (ascending) and the guest pc of its slot.
    sites: Box<[(u32, u32)]>,
    /// The code compiled, to check a machine runs the same program.
    code: CodeIdentity,
}

// SAFETY: `Compiled` is immutable after construction; its only raw pointers
// (the `enter` function pointer and the entry tables' addresses) point into
// the owned, read-only executable buffer.
unsafe impl Send for Compiled {}
// SAFETY: as above; running only reads the compiled code and tables.
unsafe impl Sync for Compiled {}

impl Compiled {
    pub(crate) fn new(program: &Program) -> Result<Self, JitError> {
        let err = |e: &dyn std::fmt::Debug| JitError::Assembler(format!("{e:?}"));
        // Reserve about what the code will take (avoids regrowing a buffer
        // of megabytes, and the page faults that come with it).
        let slots: usize = program.code().iter().map(|r| r.len()).sum();
        let capacity = slots.saturating_mul(BYTES_PER_SLOT).saturating_add(1 << 16);
        let mut ops = dynasmrt::x64::Assembler::new_with_capacity(capacity).map_err(|e| err(&e))?;
        let map = RegMap::choose(program);

        // Trampoline: save the callee-saved registers, copy the block into
        // the frame (`rep movsq`; the direction flag is clear on entry) and
        // empty the page cache (`rep stosq` of `NO_TAG`), load the pinned
        // and cached registers, jump to the entry (passed in `rsi`).
        let enter_at = ops.offset();
        let (no_tag, empty_stack, sp_at) = (NO_TAG as i64, Frame::EMPTY_STACK as i64, plan::slot(plan::SP));
        dynasm!(ops
            ; .arch x64
            ; push rbx
            ; push rbp
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; sub rsp, FRAME
            ; mov r11, rsi
            ; mov rsi, rdi
            ; mov rdi, rsp
            ; mov ecx, CTX_QWORDS
            ; rep movsq
            ; mov rax, QWORD no_tag
            ; mov ecx, CACHE_QWORDS
            ; rep stosq
            ; xor eax, eax
            ; mov QWORD [rsp + STACK_BASE], rax
            ; mov rax, QWORD empty_stack
            ; mov QWORD [rsp + STACK_PTR], rax
            ; mov rax, r11
            ; mov r13, QWORD [rsp + CTX_METER]
            ; mov ebx, DWORD [BYTE rsp + sp_at]
        );
        for (d, h) in map.cached() {
            dynasm!(ops ; .arch x64 ; mov Rd(h), DWORD [BYTE rsp + d]);
        }
        dynasm!(ops ; .arch x64 ; jmp rax);
        let exit = ops.offset();
        // Every exit (kind in `eax`, guest pc already in the frame): cached
        // guest registers, gas and count back to the frame, the `Ctx` part
        // of the frame back to the caller's block.
        for (d, h) in map.cached() {
            dynasm!(ops ; .arch x64 ; mov DWORD [BYTE rsp + d], Rd(h));
        }
        dynasm!(ops
            ; .arch x64
            ; mov QWORD [rsp + CTX_METER], r13
            ; mov rdi, QWORD [rsp + CTX_ORIGIN]
            ; mov rsi, rsp
            ; mov ecx, CTX_QWORDS
            ; rep movsq
            ; add rsp, FRAME
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbp
            ; pop rbx
            ; ret
        );

        let mut shared = routines::Shared::new(&mut ops, map, exit);
        let mut regions = Vec::new();
        for region in program.code() {
            let mut table: Box<[[u64; 2]]> = vec![[0u64; 2]; region.len()].into_boxed_slice();
            emit::region(&mut ops, &mut shared, region, &mut table);
            regions.push(Region { start: region.start(), table });
        }
        // Jumps and trap sites are 32-bit offsets (relative to the jump, or
        // to the buffer): far more than any program needs.
        if ops.offset().0 > i32::MAX as usize {
            return Err(JitError::Assembler("native code larger than 2 GiB".into()));
        }

        let buffer = ops.finalize().map_err(|_| JitError::Assembler("finalize failed".into()))?;
        let base = buffer.ptr(AssemblyOffset(0)) as usize;
        for region in &mut regions {
            for entry in region.table.iter_mut() {
                entry[1] = entry[1].wrapping_add(base as u64);
            }
        }
        let sites = shared.sites.into_boxed_slice();
        // SAFETY: `enter_at` is the start of the trampoline assembled above,
        // which follows the sysv64 ABI with this exact signature; the buffer
        // is kept alive in `buffer` as long as the function pointer.
        let enter: Enter = unsafe { std::mem::transmute::<*const u8, Enter>(buffer.ptr(enter_at)) };
        Ok(Self { buffer, base, enter, regions, sites, code: CodeIdentity::of(program) })
    }

    /// Bytes of native code.
    pub(crate) fn code_bytes(&self) -> usize {
        self.buffer.len()
    }

    /// The table entry (`[charge, body]`) of the slot at `pc`, if it is code.
    fn entry(&self, pc: u32) -> Option<[u64; 2]> {
        self.regions.iter().find_map(|r| r.slot_of(pc).map(|s| r.table[s]))
    }

    /// The guest pc of the trap site whose return address is `site`.
    fn site_pc(&self, site: usize) -> u32 {
        let at = site.wrapping_sub(self.base);
        let k = self.sites.partition_point(|&(o, _)| (o as usize) < at);
        match self.sites.get(k) {
            Some(&(o, pc)) if o as usize == at => pc,
            _ => unreachable!("native code exited from an unrecorded trap site"),
        }
    }

    pub(crate) fn run<E: Environment>(&self, machine: &mut Machine<'_>, env: &mut E) -> Outcome {
        // Compared by content, not address: a program dropped and another
        // allocated in its place must not pass.
        assert!(self.code.matches(machine.jit_program()), "JitProgram::run: the machine runs a different program");
        let stop = loop {
            let pc = machine.pc();
            let gas = machine.gas_left();
            let budget = gas.min(ctx::MAX_BUDGET);
            let full = Meter::new(budget);
            // Not code, a slow slot, or a run this budget cannot afford: the
            // reference stepper executes the slot or raises the exact fault
            // or out-of-gas (and the next call gets a fresh budget).
            let Some([charge, body]) = self.entry(pc).filter(|&[charge, _]| charge <= full.0) else {
                match machine.jit_step(env) {
                    Ok(()) => continue,
                    Err(stop) => break stop,
                }
            };
            let (regs, memory) = machine.jit_regs_and_memory();
            let mut file = [0u32; 32];
            file.copy_from_slice(&regs[..32]);
            let mut ctx = Ctx::new(file, memory, Meter(full.0 - charge), pc);
            let origin = ctx.pin();
            // SAFETY: `body` is a slot body of this buffer (alive in
            // `self`), entered with the run's charge already taken from the
            // meter; the native code only touches its frame copy of `ctx`
            // (copied back to `origin` = `ctx` before returning) and guest
            // memory: through the miss helpers, and through the cached page
            // pointers at offsets `< 4096 - size + 1` within their page (the
            // inline tag and segment checks guarantee the address is in the
            // cached page). The memory is exclusively borrowed from `machine`
            // for this call and not otherwise used until it returns; the
            // cache starts empty (`Ctx::new`) and native code never
            // allocates, so every cached pointer is to a live page.
            let kind = unsafe { (self.enter)(origin, body as *const u8) };
            let Ctx { regs: file, mut meter, mut pc, site, .. } = ctx;
            if kind as i32 == EXIT_SITE {
                // A trap site: refund the rest of its slot's run (the slot
                // included; an unaffordable run's borrow is undone), then
                // step the slot.
                pc = self.site_pc(site);
                let [charge, _] = self.entry(pc).unwrap_or([0, 0]);
                meter = Meter(meter.0.wrapping_add(charge));
            }
            let (left, count) = meter.read();
            let retired = machine.jit_instructions() + count;
            let (regs, _) = machine.jit_regs_and_memory();
            // The register array but x0's slot, native code's value slot.
            regs[1..32].copy_from_slice(&file[1..]);
            machine.jit_set_gas_left(gas - (budget - left));
            machine.jit_set_pc(pc);
            match kind as i32 {
                EXIT_ECALL => {
                    // Charged and counted with its run; the count is taken
                    // back until the syscall completes (as `run_fast` does).
                    machine.jit_set_instructions(retired - 1);
                    match machine.jit_ecall(pc, env) {
                        Ok(None) => {
                            machine.jit_set_instructions(retired);
                            machine.jit_set_pc(pc.wrapping_add(4));
                        }
                        Ok(Some(code)) => {
                            machine.jit_set_instructions(retired);
                            break JitStop::halt(code);
                        }
                        Err(stop) => break stop,
                    }
                }
                EXIT_DISPATCH => machine.jit_set_instructions(retired),
                _ => {
                    machine.jit_set_instructions(retired);
                    if let Err(stop) = machine.jit_step(env) {
                        break stop;
                    }
                }
            }
        };
        machine.jit_finish(stop)
    }
}
