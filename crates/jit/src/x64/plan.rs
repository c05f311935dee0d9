//! What the code generator decides before emitting anything: how slots
//! group into straight-line runs (gas is charged per run), which slots are
//! static jump targets, the stack-window segments (docs/jit.md, *Memory
//! access*), and which guest registers live in host registers.

use athena_vm::gas::instruction_cost;
use athena_vm::isa::{AluOp, Instruction};
use athena_vm::memory::PAGE_SIZE;
use athena_vm::Program;

/// How an instruction slot relates to straight-line runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// Executed inline; control falls through to the next slot.
    Normal,
    /// Executed inline (or exits) and ends its run: jumps, branches, `ECALL`.
    Terminator,
    /// Never executed natively: the entry hands the slot to the reference
    /// stepper without charging anything (`EBREAK`, illegal words).
    Slow,
}

fn classify(insn: &Instruction) -> Class {
    match insn {
        Instruction::Jal { .. } | Instruction::Jalr { .. } | Instruction::Branch { .. } | Instruction::Ecall => {
            Class::Terminator
        }
        Instruction::Ebreak | Instruction::Illegal { .. } => Class::Slow,
        // The decoder never produces these immediate forms; if it ever did,
        // the reference stepper would give their exact semantics.
        Instruction::AluImm { op, .. }
            if !matches!(
                op,
                AluOp::Add
                    | AluOp::Slt
                    | AluOp::Sltu
                    | AluOp::Xor
                    | AluOp::Or
                    | AluOp::And
                    | AluOp::Sll
                    | AluOp::Srl
                    | AluOp::Sra
            ) =>
        {
            Class::Slow
        }
        _ => Class::Normal,
    }
}

/// Longest run, in slots: keeps run gas far below `i32::MAX` (an immediate).
const MAX_RUN: u32 = 1 << 16;
/// Fewest window accesses worth a segment check (about as costly as two
/// checked accesses).
const MIN_SEGMENT: usize = 2;
/// The stack pointer, the only window base register.
pub(super) const SP: u8 = 2;

/// A stretch of one run in which `sp` is not written before its last slot
/// and no static jump lands after its first slot: its `sp`-relative
/// accesses (with offsets aligned to their size) are checked once, at
/// `first`, against the stack entry, then run unchecked (`hoisted`).
pub(super) struct Segment {
    /// First and last slot (both window accesses).
    pub first: usize,
    pub last: usize,
    /// Lowest offset and highest offset + size of its window accesses.
    pub min: i32,
    pub end: i32,
    /// Largest access size (`sp` must be aligned to it).
    pub align: i32,
}

/// The analysis of one region.
pub(super) struct Plan {
    pub classes: Vec<Class>,
    /// Whether slot `i` is the target of a static jump or branch in the
    /// region (always a run start).
    pub targets: Vec<bool>,
    /// Whether slot `i` is the target of a static jump or branch at or
    /// after it: a loop head.
    pub loop_heads: Vec<bool>,
    /// Whether slot `i` begins a run (its gas check is inline).
    pub run_start: Vec<bool>,
    /// Gas and length of the run entered at each slot: the slot and the
    /// following slots up to and including the next terminator, stopping
    /// before a slow slot, a forced run start or the region end. Slow slots
    /// have an empty run (they charge nothing natively).
    pub cost: Vec<u32>,
    pub len: Vec<u32>,
    pub segments: Vec<Segment>,
    /// Whether the access at slot `i` uses the window in the main code.
    pub hoisted: Vec<bool>,
    /// The segment starting / ending at slot `i` ([`NONE`] if none).
    seg_first: Vec<u32>,
    seg_last: Vec<u32>,
}

/// No segment starts or ends at a slot.
const NONE: u32 = u32::MAX;

/// `(offset, size)` of an `sp`-relative access whose offset is a multiple
/// of its size (so it is aligned whenever `sp` is aligned to the size).
fn window_access(insn: &Instruction) -> Option<(i32, i32)> {
    let (base, offset, size) = match *insn {
        Instruction::Load { op, rs1, offset, .. } => (rs1, offset, op.size() as i32),
        Instruction::Store { op, rs1, offset, .. } => (rs1, offset, op.size() as i32),
        _ => return None,
    };
    (base & 31 == SP && offset % size == 0).then_some((offset, size))
}

/// The register an instruction writes, if any.
fn dest(insn: &Instruction) -> Option<u8> {
    match *insn {
        Instruction::Lui { rd, .. }
        | Instruction::Auipc { rd, .. }
        | Instruction::Jal { rd, .. }
        | Instruction::Jalr { rd, .. }
        | Instruction::Load { rd, .. }
        | Instruction::AluImm { rd, .. }
        | Instruction::Alu { rd, .. } => Some(rd & 31),
        _ => None,
    }
}

/// A segment being collected.
struct Open {
    first: usize,
    last: usize,
    min: i32,
    end: i32,
    align: i32,
    slots: Vec<usize>,
}

impl Plan {
    pub fn new(start: u32, insns: &[Instruction]) -> Self {
        let n = insns.len();
        let classes: Vec<Class> = insns.iter().map(classify).collect();
        let mut targets = vec![false; n];
        let mut loop_heads = vec![false; n];
        for (i, insn) in insns.iter().enumerate() {
            let offset = match *insn {
                Instruction::Branch { offset, .. } | Instruction::Jal { offset, .. } => offset,
                _ => continue,
            };
            let target = start.wrapping_add((i as u32) << 2).wrapping_add(offset as u32);
            let rel = target.wrapping_sub(start);
            let slot = (rel >> 2) as usize;
            if rel & 3 == 0 && slot < n {
                targets[slot] = true;
                loop_heads[slot] |= slot <= i;
            }
        }
        // Runs also start at static jump targets (loop heads): jumps land
        // on an inline gas check instead of going through an entry stub.
        let mut run_start = vec![false; n];
        let mut in_run = 0u32;
        for i in 0..n {
            let after_end = i == 0 || classes[i - 1] != Class::Normal;
            run_start[i] = after_end || targets[i] || in_run >= MAX_RUN;
            in_run = if run_start[i] { 1 } else { in_run + 1 };
        }
        let mut cost = vec![0u32; n];
        let mut len = vec![0u32; n];
        for i in (0..n).rev() {
            let c = instruction_cost(insns[i].cost_class()) as u32;
            match classes[i] {
                Class::Slow => {}
                Class::Terminator => {
                    cost[i] = c;
                    len[i] = 1;
                }
                Class::Normal => {
                    let next = i + 1 < n && classes[i + 1] != Class::Slow && !run_start[i + 1];
                    let (nc, nl) = if next { (cost[i + 1], len[i + 1]) } else { (0, 0) };
                    cost[i] = c.saturating_add(nc);
                    len[i] = nl + 1;
                }
            }
        }
        let mut plan = Plan {
            classes,
            targets,
            loop_heads,
            run_start,
            cost,
            len,
            segments: Vec::new(),
            hoisted: vec![false; n],
            seg_first: vec![NONE; n],
            seg_last: vec![NONE; n],
        };
        let mut open: Option<Open> = None;
        for (i, insn) in insns.iter().enumerate() {
            if plan.run_start[i] || plan.targets[i] || plan.classes[i] != Class::Normal {
                plan.close(open.take());
            }
            if plan.classes[i] != Class::Normal {
                continue;
            }
            if let Some((offset, size)) = window_access(insn) {
                let fits = open.as_ref().is_none_or(|o| {
                    i64::from(o.end.max(offset + size)) - i64::from(o.min.min(offset)) <= i64::from(PAGE_SIZE)
                });
                if !fits {
                    plan.close(open.take());
                }
                let o = open.get_or_insert_with(|| Open {
                    first: i,
                    last: i,
                    min: offset,
                    end: offset + size,
                    align: size,
                    slots: Vec::new(),
                });
                o.last = i;
                o.min = o.min.min(offset);
                o.end = o.end.max(offset + size);
                o.align = o.align.max(size);
                o.slots.push(i);
            }
            if dest(insn) == Some(SP) {
                plan.close(open.take());
            }
        }
        plan.close(open);
        plan
    }

    /// The segment whose first slot is `i`.
    pub fn segment_first(&self, i: usize) -> Option<usize> {
        (self.seg_first[i] != NONE).then_some(self.seg_first[i] as usize)
    }

    /// The segment whose last slot is `i`.
    pub fn segment_last(&self, i: usize) -> Option<usize> {
        (self.seg_last[i] != NONE).then_some(self.seg_last[i] as usize)
    }

    fn close(&mut self, open: Option<Open>) {
        let Some(o) = open else { return };
        if o.slots.len() < MIN_SEGMENT {
            return;
        }
        let k = self.segments.len();
        for &i in &o.slots {
            self.hoisted[i] = true;
        }
        self.seg_first[o.first] = k as u32;
        self.seg_last[o.last] = k as u32;
        self.segments.push(Segment { first: o.first, last: o.last, min: o.min, end: o.end, align: o.align });
    }
}

// ---- register map -----------------------------------------------------------

/// Host register numbers (x86-64 encoding).
pub(super) const RAX: u8 = 0;
pub(super) const RCX: u8 = 1;
pub(super) const RDX: u8 = 2;
const RBP: u8 = 5;
const RSI: u8 = 6;
const RDI: u8 = 7;

/// Host registers holding guest registers, for the hottest guest register
/// first: callee-saved ones (kept across helper calls) first, then
/// caller-saved ones (spilled to the frame around helper calls), `rcx` and
/// `rdx` last (lent as scratch to rare instructions, see `alu.rs`). `rax`
/// is scratch; `r13` the gas/count meter; `rbx` the stack window (`sp`
/// plus the stack entry's base; `sp` itself lives in the frame); `rsp` the
/// frame.
const CACHE_HOSTS: [u8; 12] = [RBP, 12, 14, 15, RSI, RDI, 8, 9, 10, 11, RCX, RDX];

/// Whether host register `h` survives a sysv64 call.
pub(super) fn callee_saved(h: u8) -> bool {
    matches!(h, 3 | 5 | 12..=15)
}

/// Where a guest register lives while native code runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Loc {
    /// `x0`: reads as zero, writes vanish.
    Zero,
    /// In a host register (written back to the frame at every exit).
    Host(u8),
    /// In the frame's register array at this byte offset from `rsp`
    /// (below 128: always a one-byte displacement).
    Mem(i8),
}

/// Which guest registers live in which host registers (the same for the
/// whole program, so the trampoline and the shared exit can load and store
/// them).
#[derive(Clone)]
pub(super) struct RegMap {
    host: [Option<u8>; 32],
}

impl RegMap {
    /// Gives host registers to the guest registers named most often in the
    /// program's code; never `sp`, which lives in the frame (window accesses
    /// go through `rbx`). Plain static counts: weighting uses inside short loops (as an
    /// earlier version did) favoured library loops over the long unrolled
    /// bodies of hashing code, which then ran with its hottest registers
    /// in memory.
    pub fn choose(program: &Program) -> Self {
        let mut weight = [0u64; 32];
        for region in program.code() {
            for insn in region.instructions() {
                let (used, k) = registers_used(insn);
                for r in &used[..k] {
                    weight[usize::from(r & 31)] += 1;
                }
            }
        }
        weight[0] = 0;
        weight[usize::from(SP)] = 0;
        let mut order: Vec<usize> = (1..32).collect();
        order.sort_by_key(|&r| std::cmp::Reverse(weight[r]));
        let mut host = [None; 32];
        for (&r, &h) in order.iter().zip(&CACHE_HOSTS) {
            if weight[r] > 0 {
                host[r] = Some(h);
            }
        }
        Self { host }
    }

    pub fn loc(&self, r: u8) -> Loc {
        let r = r & 31;
        match self.host[usize::from(r)] {
            _ if r == 0 => Loc::Zero,
            Some(h) => Loc::Host(h),
            None => Loc::Mem(slot(r)),
        }
    }

    /// The same map with the guest registers held in `hosts` moved to the
    /// frame.
    pub fn without(&self, hosts: &[u8]) -> Self {
        let mut map = self.clone();
        for h in &mut map.host {
            if h.is_some_and(|h| hosts.contains(&h)) {
                *h = None;
            }
        }
        map
    }

    /// Frame offset of the guest register held in host register `h`.
    pub fn guest_in(&self, h: u8) -> Option<i8> {
        self.cached().find(|&(_, g)| g == h).map(|(d, _)| d)
    }

    /// `(frame offset, host register)` of every cached guest register.
    pub fn cached(&self) -> impl Iterator<Item = (i8, u8)> + '_ {
        self.host.iter().enumerate().filter_map(|(r, h)| h.map(|h| (slot(r as u8), h)))
    }

    /// Cached guest registers held in caller-saved host registers.
    pub fn clobbered(&self) -> impl Iterator<Item = (i8, u8)> + '_ {
        self.cached().filter(|&(_, h)| !callee_saved(h))
    }
}

/// Frame offset of guest register `r` (`regs` is the frame's first field).
pub(super) fn slot(r: u8) -> i8 {
    4 * (r & 31) as i8
}

/// The registers an instruction names (the first `k` of the array).
fn registers_used(insn: &Instruction) -> ([u8; 3], usize) {
    match *insn {
        Instruction::Lui { rd, .. } | Instruction::Auipc { rd, .. } | Instruction::Jal { rd, .. } => ([rd, 0, 0], 1),
        Instruction::Jalr { rd, rs1, .. } | Instruction::Load { rd, rs1, .. } | Instruction::AluImm { rd, rs1, .. } => {
            ([rd, rs1, 0], 2)
        }
        Instruction::Branch { rs1, rs2, .. } | Instruction::Store { rs1, rs2, .. } => ([rs1, rs2, 0], 2),
        Instruction::Alu { rd, rs1, rs2, .. } => ([rd, rs1, rs2], 3),
        _ => ([0; 3], 0),
    }
}
