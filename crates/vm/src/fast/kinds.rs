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
                SubJalr = [Sub, Jalr];
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

/// Gives each op the fused kind that, among those matching the plain ops
/// from it on, leaves the fewest dispatches along the fall-through path to
/// the next jump or system op (so any entry point gets an optimal cover of
/// its straight-line code). `ops` holds plain kinds only and ends with a
/// `Slow` sentinel; only the last part of a fused kind may be a jump or a
/// system op (checked by a unit test).
pub(super) fn fuse(ops: &mut [Op]) {
    let plain: Vec<Kind> = ops.iter().map(|op| op.kind).collect();
    // The fused kinds by their first part.
    let mut starting: Vec<Vec<(Kind, &[Kind])>> = vec![Vec::new(); 256];
    for &(fused, parts) in FUSED {
        if let Some(list) = parts.first().and_then(|&first| starting.get_mut(first as usize)) {
            list.push((fused, parts));
        }
    }
    // `dispatches[i]`: dispatches from slot `i` along the fall-through path.
    let mut dispatches = vec![0u32; plain.len() + 1];
    for i in (0..plain.len()).rev() {
        let after = |len: usize| {
            let last = plain.get(i + len - 1).copied().is_some_and(ends_path);
            1 + if last { 0 } else { dispatches.get(i + len).copied().unwrap_or(0) }
        };
        let mut best = (after(1), plain[i]);
        for &(fused, parts) in starting.get(plain[i] as usize).map_or(&[][..], |list| list.as_slice()) {
            if plain.get(i..i + parts.len()) == Some(parts) && after(parts.len()) < best.0 {
                best = (after(parts.len()), fused);
            }
        }
        dispatches[i] = best.0;
        ops[i].kind = best.1;
    }
}

#[cfg(test)]
mod tests {
    use super::{ends_path, FUSED};

    #[test]
    fn only_the_last_part_of_a_fused_kind_jumps() {
        for (fused, parts) in FUSED {
            assert!(parts.len() >= 2, "{fused:?}");
            assert!(parts.iter().rev().skip(1).all(|&k| !ends_path(k)), "{fused:?}");
        }
    }
}
