//! The fast engine's op kinds: one per instruction, plus fused kinds
//! (superinstructions) that run a short sequence of consecutive ops with a
//! single dispatch.
//!
//! A fused kind only replaces the kind of the first op of its sequence:
//! every op keeps its own operands in its own slot, and the fused op reads
//! the later ones from there. So jumping into the middle of a sequence runs
//! the plain ops, a part that needs the reference stepper leaves with
//! exactly the state after the parts before it, and gas (charged per run)
//! is untouched. A part before the last may be a conditional branch: taken,
//! it leaves the fused op like any branch; not taken, it charges the next
//! run exactly as falling through would, and the fused op goes on. The
//! sequences are chosen for their dynamic frequency in compiled Rust (the
//! benchmark guests): stack spills and reloads, rotates, pointer bumps, an
//! ALU op or a load feeding a branch, and the byte loops of `memcmp`,
//! `memcpy` and `memset`.
//!
//! One shape of taken branch stays inside a fused op: a conditional branch
//! over the unconditional jump right after it (`bne a, b, 1f; j out; 1:`,
//! how LLVM lays out a rotated loop whose exit sits in the middle). A part
//! `Jal` before the last is such a jump, and the part before it must be a
//! branch to the slot after it (the fusion pass checks both). Taken, the
//! branch charges the run after the jump, as entering it would, and the
//! fused op goes on there; not taken, the jump runs and leaves.

use std::sync::OnceLock;

use super::compile::Op;

/// Calls `$callback!` with every kind: the plain ones, then each fused
/// kind with the plain kinds it runs, in order. The single list that the
/// [`Kind`] enum, the fusion pass and the dispatch loop are generated from.
macro_rules! with_kinds {
    ($callback:ident) => {
        $callback! {
            plain: Const, Addi, Slti, Sltiu, Xori, Ori, Andi, Slli, Srli, Srai, Add, Sub, Sll, Slt, Sltu, Xor, Srl,
                Sra, Or, And, Mul, Mulh, Mulhsu, Mulhu, Div, Divu, Rem, Remu, Lb, Lh, Lw, Lbu, Lhu, Sb, Sh, Sw, Nop,
                Jal, Jalr, Beq, Bne, Blt, Bge, Bltu, Bgeu, Ecall, Slow;
            fused:
                LbuLbuBneAddiAddiAddiBne = [Lbu, Lbu, Bne, Addi, Addi, Addi, Bne],
                AddiAddiAddAddiBne = [Addi, Addi, Add, Addi, Bne],
                SltuLwAddSwLw = [Sltu, Lw, Add, Sw, Lw],
                SrliSlliOrSwLw = [Srli, Slli, Or, Sw, Lw],
                MulSwMulhuSw = [Mul, Sw, Mulhu, Sw],
                SltSrliSubAndi = [Slt, Srli, Sub, Andi],
                XoriAndXor = [Xori, And, Xor],
                AndXorSw = [And, Xor, Sw],
                SwSltuLw = [Sw, Sltu, Lw],
                SbSrliSb = [Sb, Srli, Sb],
                SbAddAddBltu = [Sb, Add, Add, Bltu],
                AddiAddiAddiBne = [Addi, Addi, Addi, Bne],
                LbuLbuBne = [Lbu, Lbu, Bne],
                SwAddiBltu = [Sw, Addi, Bltu],
                LbuAddiSb = [Lbu, Addi, Sb],
                SrliSlliOr = [Srli, Slli, Or],
                SlliSrliOr = [Slli, Srli, Or],
                SbAddAdd = [Sb, Add, Add],
                AddAddBltu = [Add, Add, Bltu],
                LwAddSw = [Lw, Add, Sw],
                SlliOrSw = [Slli, Or, Sw],
                AddSwLw = [Add, Sw, Lw],
                XorSwLw = [Xor, Sw, Lw],
                LwLwAdd = [Lw, Lw, Add],
                LwXorSw = [Lw, Xor, Sw],
                SwLwLw = [Sw, Lw, Lw],
                AddAddiBne = [Add, Addi, Bne],
                AddLbuBne = [Add, Lbu, Bne],
                AddiAddiBne = [Addi, Addi, Bne],
                SwLwXor = [Sw, Lw, Xor],
                LwXorLw = [Lw, Xor, Lw],
                SwLw = [Sw, Lw],
                LwAdd = [Lw, Add],
                AddiAddi = [Addi, Addi],
                SlliOr = [Slli, Or],
                AddAdd = [Add, Add],
                LwXor = [Lw, Xor],
                LwLw = [Lw, Lw],
                SrliSlli = [Srli, Slli],
                AddSw = [Add, Sw],
                XorSw = [Xor, Sw],
                AddiBne = [Addi, Bne],
                AddiBeq = [Addi, Beq],
                AddBltu = [Add, Bltu],
                AddiBltu = [Addi, Bltu],
                SbAdd = [Sb, Add],
                OrSw = [Or, Sw],
                LbuBne = [Lbu, Bne],
                LbuBeq = [Lbu, Beq],
                XorLw = [Xor, Lw],
                SwSrli = [Sw, Srli],
                OrSrli = [Or, Srli],
                AddiAdd = [Addi, Add],
                AddAddi = [Add, Addi],
                AddLw = [Add, Lw],
                AddLbu = [Add, Lbu],
                SwAddi = [Sw, Addi],
                LbuLbu = [Lbu, Lbu],
                AndXor = [And, Xor],
                MulSw = [Mul, Sw],
                SltuLw = [Sltu, Lw],
                AddSltu = [Add, Sltu],
                SwMulhu = [Sw, Mulhu],
                LwMul = [Lw, Mul],
                XorXor = [Xor, Xor],
                SwSw = [Sw, Sw],
                MulhuSw = [Mulhu, Sw],
                SwXor = [Sw, Xor],
                SwMul = [Sw, Mul],
                LwAddi = [Lw, Addi],
                LwSlli = [Lw, Slli],
                LwSrli = [Lw, Srli],
                LwAnd = [Lw, And],
                SrliLw = [Srli, Lw],
                OrLw = [Or, Lw],
                LwSw = [Lw, Sw],
                XoriLw = [Xori, Lw],
                AddiSw = [Addi, Sw],
                AddiLw = [Addi, Lw],
                SwAdd = [Sw, Add],
                LwXori = [Lw, Xori],
                SwXori = [Sw, Xori],
                XoriXori = [Xori, Xori],
                XorAnd = [Xor, And],
                AndAnd = [And, And],
                MulMulhu = [Mul, Mulhu],
                ConstJalr = [Const, Jalr],
                SubJalr = [Sub, Jalr],
                AddiAddiAddAddiBneJalAddLbuBne = [Addi, Addi, Add, Addi, Bne, Jal, Add, Lbu, Bne];
        }
    };
}
pub(super) use with_kinds;

macro_rules! define_kinds {
    (plain: $($plain:ident),*; fused: $($fused:ident = [$($part:ident),+]),*;) => {
        /// What an op does (one byte, so an [`Op`] is eight bytes). Plain
        /// kinds are named after their instruction, except `Const` (`rd =
        /// imm`: LUI, and AUIPC with its pc folded in), `Nop` (FENCE) and
        /// `Slow` (EBREAK, illegal words and the sentinel past the end of a
        /// region, left to the reference stepper for the exact trap). For
        /// JAL and branches `imm` is the target slot, or
        /// [`super::compile::NO_SLOT`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub(crate) enum Kind {
            $($plain,)*
            $($fused,)*
        }

        /// Each fused kind and the plain kinds it runs.
        const FUSED: &[(Kind, &[Kind])] = &[$((Kind::$fused, &[$(Kind::$part),+]),)*];

        /// The number of plain kinds: they come first, so their values are
        /// `0..PLAIN_KINDS`.
        const PLAIN_KINDS: usize = [$(stringify!($plain)),*].len();
    };
}
with_kinds!(define_kinds);

/// Whether an op of this plain kind ends a straight-line run.
pub(super) fn ends_run(kind: Kind) -> bool {
    is_branch(kind) || ends_path(kind)
}

/// Whether an op of this plain kind is a conditional branch: the only
/// run-ending kind a fused op may have before its last part (not taken, it
/// charges the next run and the fused op goes on).
fn is_branch(kind: Kind) -> bool {
    matches!(kind, Kind::Beq | Kind::Bne | Kind::Blt | Kind::Bge | Kind::Bltu | Kind::Bgeu)
}

/// Whether an op of this plain kind never falls through to the next slot
/// inside the fast loop.
fn ends_path(kind: Kind) -> bool {
    matches!(kind, Kind::Jal | Kind::Jalr | Kind::Ecall | Kind::Slow)
}

/// Whether every `Jal` part before the last of a fused kind whose parts
/// match the plain ops from slot `at` is jumped over by the branch part
/// before it (see the module documentation): only then may the kind run
/// there. That the part before such a `Jal` is a branch is a property of
/// the kind list (unit test); what varies per slot is the branch target.
fn jumps_fit(ops: &[Op], at: usize, parts: &[Kind]) -> bool {
    parts.iter().enumerate().take(parts.len().saturating_sub(1)).all(|(k, &part)| {
        part != Kind::Jal
            || k.checked_sub(1).and_then(|b| ops.get(at + b)).is_some_and(|branch| branch.imm as usize == at + k + 1)
    })
}

/// A fused kind as the fusion pass needs it.
#[derive(Clone, Copy)]
struct Candidate {
    fused: Kind,
    parts: &'static [Kind],
    /// Whether a part ends the fall-through path (only a jumped-over `Jal`
    /// can, before the last part).
    ends_path: bool,
}

/// The fused kinds as a trie over their parts, so that one walk from a slot
/// finds every kind matching the ops there (measured: the list scan it
/// replaced was two thirds of a program's load time).
struct Trie {
    /// `next[node][kind]`: the child of `node` for plain kind `kind`, or 0
    /// (node 0 is the root, never a child).
    next: Vec<[u16; PLAIN_KINDS]>,
    /// The fused kind whose parts spell the path to each node, if any.
    ends: Vec<Option<Candidate>>,
}

impl Trie {
    fn get() -> &'static Trie {
        static TRIE: OnceLock<Trie> = OnceLock::new();
        TRIE.get_or_init(|| {
            let mut trie = Trie { next: vec![[0; PLAIN_KINDS]], ends: vec![None] };
            for &(fused, parts) in FUSED {
                let mut node = 0;
                for &part in parts {
                    let child = trie.next[node][part as usize];
                    node = if child != 0 {
                        usize::from(child)
                    } else {
                        let child = trie.next.len();
                        trie.next.push([0; PLAIN_KINDS]);
                        trie.ends.push(None);
                        trie.next[node][part as usize] = child as u16;
                        child
                    };
                }
                let ends_path = parts.iter().copied().any(ends_path);
                trie.ends[node] = Some(Candidate { fused, parts, ends_path });
            }
            trie
        })
    }

    /// The fused kinds whose parts are a prefix of `plain`, shortest first.
    fn matches<'a>(&'a self, plain: &'a [Kind]) -> impl Iterator<Item = Candidate> + 'a {
        let mut node = 0usize;
        plain
            .iter()
            .map_while(move |&kind| {
                let child = self.next.get(node)?.get(kind as usize).copied().filter(|&c| c != 0)?;
                node = usize::from(child);
                Some(self.ends.get(node).copied().flatten())
            })
            .flatten()
    }
}

/// Gives each op the fused kind that, among those matching the plain ops
/// from it on, leaves the fewest dispatches along the fall-through path to
/// the next jump or system op (so any entry point gets an optimal cover of
/// its straight-line code). `ops` holds plain kinds only and ends with a
/// `Slow` sentinel; only the last part of a fused kind may be a jump or a
/// system op, except a `Jal` jumped over by the part before it (checked by
/// a unit test and by [`jumps_fit`]).
pub(super) fn fuse(ops: &mut [Op]) {
    let plain: Vec<Kind> = ops.iter().map(|op| op.kind).collect();
    let trie = Trie::get();
    // `dispatches[i]`: dispatches from slot `i` along the fall-through path
    // (which a jumped-over `Jal` part ends, as a jump would).
    let mut dispatches = vec![0u32; plain.len() + 1];
    for i in (0..plain.len()).rev() {
        let after = |len: usize, ends: bool| 1 + if ends { 0 } else { dispatches.get(i + len).copied().unwrap_or(0) };
        let mut best = (after(1, ends_path(plain[i])), plain[i]);
        for candidate in trie.matches(&plain[i..]) {
            let dispatches = after(candidate.parts.len(), candidate.ends_path);
            if dispatches < best.0 && jumps_fit(ops, i, candidate.parts) {
                best = (dispatches, candidate.fused);
            }
        }
        dispatches[i] = best.0;
        ops[i].kind = best.1;
    }
}

#[cfg(test)]
mod tests {
    use super::{ends_path, is_branch, Kind, Trie, FUSED};
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_trie_finds_exactly_the_kinds_whose_parts_are_a_prefix() {
        let mut rng = SmallRng::seed_from_u64(7);
        let trie = Trie::get();
        for _ in 0..2_000 {
            // Runs of parts of random fused kinds, cut anywhere, so that
            // prefixes of one kind meet the start of another.
            let mut plain: Vec<Kind> = Vec::new();
            while plain.len() < 12 {
                let (_, parts) = FUSED[rng.gen_range(0..FUSED.len())];
                plain.extend_from_slice(&parts[..rng.gen_range(1..=parts.len())]);
            }
            for at in 0..plain.len() {
                let rest = &plain[at..];
                let found: Vec<Kind> = trie.matches(rest).map(|c| c.fused).collect();
                let mut expected: Vec<(usize, Kind)> =
                    FUSED.iter().filter(|(_, parts)| rest.starts_with(parts)).map(|&(f, p)| (p.len(), f)).collect();
                expected.sort_by_key(|&(len, _)| len);
                assert_eq!(found, expected.into_iter().map(|(_, f)| f).collect::<Vec<_>>(), "{rest:?}");
            }
        }
    }

    #[test]
    fn only_the_last_part_of_a_fused_kind_jumps() {
        for (fused, parts) in FUSED {
            assert!(parts.len() >= 2, "{fused:?}");
            let inner = &parts[..parts.len() - 1];
            for (k, &part) in inner.iter().enumerate() {
                let jumped_over = part == Kind::Jal && k > 0 && is_branch(inner[k - 1]);
                assert!(!ends_path(part) || jumped_over, "{fused:?}");
            }
        }
    }
}
