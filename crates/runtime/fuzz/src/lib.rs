//! The genesis state the `apply` target starts every input from, and the
//! seed transactions. The templates are the guest ELFs `wallet` and
//! `test-auth`, read from `$ATHENA_FUZZ_GUESTS` (default: this checkout's
//! `target/guest/riscv32em-unknown-none-elf/release`; build them with
//! `./scripts/demo-vm.sh` or `cargo test -p athena-runtime`).

use athena_interface::{Address, Bytes32};
use athena_runtime::tx::BlockContext;
use athena_runtime::{Account, ChangeSet, MemoryState, StateWriter};
use athena_transaction::{
    encode_payload, program_address, sign_single, template_address, Network, UnsignedTransaction,
};
use ed25519_dalek::SigningKey;
use parity_scale_codec::Encode;
use std::path::PathBuf;
use std::sync::Arc;

/// Where fees go.
pub const COINBASE: Address = Address::new([0xcb; 24]);
/// Every genesis account's balance.
pub const RICH: u64 = 1_000_000_000_000;
/// Transactions asking for more gas are skipped, so that a program that
/// loops (test-auth's `spin`) cannot make one input run for seconds.
pub const MAX_FUZZ_GAS: u64 = 5_000_000;

/// The state every input is applied to, and what the seeds need.
pub struct Genesis {
    pub state: MemoryState,
    pub block: BlockContext,
    pub wallet_key: SigningKey,
    /// Alice's wallet (the `wallet` template, key seed `[7; 32]`).
    pub wallet: Address,
    /// `test-auth` programs of modes 1 to 5 (see its module docs; mode 0
    /// loops in `verify` and would only burn time).
    pub test_auth: Vec<Address>,
}

fn guest(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("ATHENA_FUZZ_GUESTS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../target/guest/riscv32em-unknown-none-elf/release")
    });
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set ATHENA_FUZZ_GUESTS)", path.display()))
}

/// The test network.
pub fn network() -> Network {
    Network::test(Bytes32::new([0x11; 32]))
}

impl Genesis {
    pub fn new() -> Genesis {
        let mut state = MemoryState::new();
        let mut changes = ChangeSet::default();
        let mut template = |code: Vec<u8>| {
            let address = template_address(&code);
            changes.templates.insert(address, Arc::from(code));
            address
        };
        let wallet_template = template(guest("wallet"));
        let test_auth_template = template(guest("test-auth"));
        let mut program = |template: Address, st: Vec<u8>| {
            let address = program_address(&template, &st);
            changes.accounts.insert(address, Account { balance: RICH, nonce: 0, template: Some(template) });
            changes.states.insert(address, st);
            address
        };
        let wallet_key = SigningKey::from_bytes(&[7; 32]);
        let wallet = program(wallet_template, wallet_key.verifying_key().to_bytes().to_vec());
        let test_auth = (1u8..=5).map(|mode| program(test_auth_template, (mode, u64::from(mode)).encode())).collect();
        state.apply(&changes).expect("genesis applies");
        let mut block = BlockContext::new(network(), COINBASE);
        block.height = 7;
        block.timestamp = 1_700_000_000;
        Genesis { state, block, wallet_key, wallet, test_auth }
    }

    /// Valid transactions of every principal: signed wallet spends and
    /// unsigned test-auth spends, calls and a spin.
    pub fn seeds(&self) -> Vec<(String, Vec<u8>)> {
        let to = Address::new([0x42; 24]);
        let spend = encode_payload("spend", &(to.into_bytes(), 1000u64));
        let tx = |principal, payload: Vec<u8>, gas_limit| UnsignedTransaction {
            principal,
            template: None,
            nonce: 0,
            gas_limit,
            gas_price: 3,
            payload,
        };
        let mut out = vec![(
            "wallet-spend".to_owned(),
            sign_single(&self.wallet_key, &network(), tx(self.wallet, spend.clone(), 1_000_000)).encode(),
        )];
        for (i, &p) in self.test_auth.iter().enumerate() {
            let mode = i + 1;
            for (name, payload) in [
                ("spend", spend.clone()),
                ("deposit", encode_payload("deposit", &())),
                ("spin", encode_payload("spin", &())),
                ("verify", encode_payload("verify", &(vec![1u8], vec![2u8]))),
            ] {
                let signed = tx(p, payload, 200_000).with_authenticator(vec![mode as u8; 64]);
                out.push((format!("test-auth-{mode}-{name}"), signed.encode()));
            }
        }
        out
    }
}

impl Default for Genesis {
    fn default() -> Self {
        Self::new()
    }
}
