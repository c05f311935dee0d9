//! Arbitrary bytes as a transaction applied to a genesis state (a signed
//! wallet and test-auth programs that accept any authenticator, see
//! `src/lib.rs`): `apply_transaction` must never panic or fail to
//! evaluate; applying the same bytes again gives the same receipt
//! (determinism), as does the reference interpreter and the JIT compiling
//! every program on first use; and the receipt keeps the executor's
//! invariants (coins conserved, fee = gas used × price, gas within the
//! limit and split as reported, nonce bumped exactly when effective,
//! nothing changed or logged when ineffective).
#![no_main]

use athena_engine::EngineConfig;
use athena_runtime::tx::{apply_transaction, intrinsic_gas, TxConfig, MAX_SPEND_GAS_LIMIT, VERIFY_GAS_LIMIT};
use athena_runtime::{StateReader, StateWriter};
use athena_runtime_fuzz::{Genesis, MAX_FUZZ_GAS};
use athena_vm::Engine;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static GENESIS: OnceLock<Genesis> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let g = GENESIS.get_or_init(Genesis::new);
    let decoded = athena_transaction::decode(data).ok();
    if decoded.as_ref().is_some_and(|tx| tx.body.gas_limit > MAX_FUZZ_GAS) {
        return;
    }
    let apply = |engine: EngineConfig| {
        apply_transaction(&g.state, &g.block, data, &TxConfig { engine, ..TxConfig::default() })
            .expect("a transaction on an in-memory state is always evaluable")
    };
    let receipt = apply(EngineConfig::default());
    assert_eq!(receipt, apply(EngineConfig::default()), "not deterministic");
    let reference = EngineConfig { vm_engine: Engine::Reference, ..EngineConfig::default() };
    assert_eq!(receipt, apply(reference), "the reference interpreter disagrees");
    let jit = EngineConfig { jit_threshold: 0, ..EngineConfig::default() };
    assert_eq!(receipt, apply(jit), "the JIT disagrees");

    assert_eq!(receipt.tx_id.as_bytes(), blake3::hash(data).as_bytes());
    let supply = |s: &athena_runtime::MemoryState| s.accounts().values().map(|a| u128::from(a.balance)).sum::<u128>();
    let mut after = g.state.clone();
    after.apply(&receipt.changes).expect("the changes of a receipt apply");
    assert_eq!(supply(&after), supply(&g.state), "coins not conserved: {receipt:?}");
    if receipt.is_effective() {
        let tx = decoded.expect("an effective transaction decodes");
        let nonce = |s: &athena_runtime::MemoryState| s.account(&tx.body.principal).unwrap().map_or(0, |a| a.nonce);
        assert_eq!(receipt.fee, receipt.gas_used * tx.body.gas_price, "{receipt:?}");
        assert!(receipt.gas_used <= tx.body.gas_limit, "{receipt:?}");
        assert_eq!(receipt.gas.total(), receipt.gas_used, "{receipt:?}");
        assert!(receipt.gas.verify <= VERIFY_GAS_LIMIT, "{receipt:?}");
        assert!(receipt.gas.max_spend <= MAX_SPEND_GAS_LIMIT, "{receipt:?}");
        assert!(receipt.gas_used >= intrinsic_gas(data.len(), None), "{receipt:?}");
        assert_eq!(nonce(&after), nonce(&g.state) + 1, "nonce not bumped: {receipt:?}");
    } else {
        assert!(receipt.changes.is_empty(), "ineffective but changed: {receipt:?}");
        assert_eq!((receipt.gas_used, receipt.fee), (0, 0), "{receipt:?}");
        assert!(receipt.logs.is_empty(), "{receipt:?}");
    }
    if !receipt.is_success() {
        assert!(receipt.logs.is_empty(), "logs only on success: {receipt:?}");
    }
});
