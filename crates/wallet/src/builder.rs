//! Building and signing single-sig wallet transactions
//! (`guest/templates/wallet`, docs/templates.md).
//!
//! A wallet is the program `program_address(wallet template, public key)`:
//! its state is the 32-byte public key (SCALE of `[u8; 32]` is the bytes
//! themselves). Its first transaction is the self-spawn (template field
//! set, payload `selector("spawn") ‖ public key`); every later transaction
//! calls one of its methods on itself: `spend`, `proxy`, `deploy`,
//! `spawn_program`.

use crate::key::Key;
use athena_interface::Address;
use athena_transaction::{
    encode_payload, program_address, selector, sign_single, template_address, Network, Transaction, UnsignedTransaction,
};

/// The wallet's address for `public_key` under the wallet `template`.
///
/// Known before the wallet exists, so it can be funded first and then
/// spawned by its own key.
pub fn wallet_address(template: &Address, public_key: &[u8; 32]) -> Address {
    program_address(template, public_key)
}

/// What a wallet transaction does: the wallet method its payload calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// The self-spawn: creates the wallet at its address (which must hold
    /// coins for the fee).
    SelfSpawn,
    /// `spend(to, amount)`: send coins (calls `to.deposit()`).
    Spend {
        /// Recipient.
        to: Address,
        /// Coins.
        amount: u64,
    },
    /// `proxy(to, payload, value)`: call another program's method.
    Proxy {
        /// Callee.
        to: Address,
        /// Callee input: `selector ‖ SCALE(args)`.
        payload: Vec<u8>,
        /// Coins sent with the call.
        value: u64,
    },
    /// `deploy(code)`: deploy a template.
    Deploy {
        /// The template's ELF.
        code: Vec<u8>,
    },
    /// `spawn_program(template, state)`: spawn a program of a template.
    SpawnProgram {
        /// The template.
        template: Address,
        /// The program's immutable state (SCALE of the template struct).
        state: Vec<u8>,
    },
}

impl Call {
    /// The unsigned transaction of `principal` (an account of `template`
    /// whose spawn state is `state`) making this call: the self-spawn
    /// carries the template field and the state, every other call neither.
    pub fn unsigned(
        &self,
        principal: Address,
        template: Address,
        state: &[u8],
        params: TxParams,
    ) -> UnsignedTransaction {
        UnsignedTransaction {
            principal,
            template: matches!(self, Call::SelfSpawn).then_some(template),
            nonce: params.nonce,
            gas_limit: params.gas_limit,
            gas_price: params.gas_price,
            payload: self.payload(state),
        }
    }

    /// The transaction payload for an account whose immutable state is
    /// `state` (a wallet's: its 32-byte public key; a multisig's:
    /// `SCALE((k, keys))`): only the self-spawn carries it.
    pub fn payload(&self, state: &[u8]) -> Vec<u8> {
        match self {
            Call::SelfSpawn => {
                let mut payload = selector("spawn").to_vec();
                payload.extend_from_slice(state);
                payload
            }
            Call::Spend { to, amount } => encode_payload("spend", &(to.0, *amount)),
            Call::Proxy { to, payload, value } => encode_payload("proxy", &(to.0, payload, *value)),
            Call::Deploy { code } => encode_payload("deploy", code),
            Call::SpawnProgram { template, state } => encode_payload("spawn_program", &(template.0, state)),
        }
    }

    /// Coins the call moves out of the wallet (what its `max_spend`
    /// answers), besides the fee.
    pub fn value(&self) -> u64 {
        match self {
            Call::Spend { amount, .. } => *amount,
            Call::Proxy { value, .. } => *value,
            _ => 0,
        }
    }

    /// A gas limit that covers the call in the common case, used when
    /// neither the user nor a dry run gives a better one. Derived from the
    /// measured costs in docs/templates.md with a wide margin (about 2×):
    /// a self-spawn or spend is ~50 000; a deploy ~50 gas per code byte
    /// (paid in the intrinsic gas, `verify`, `max_spend` and `DEPLOY`).
    /// Unused gas is refunded, so a generous limit costs only the
    /// prepayment the balance must cover.
    pub fn default_gas_limit(&self) -> u64 {
        let per_byte = |base: u64, len: usize| base.saturating_add(100u64.saturating_mul(len as u64));
        match self {
            Call::SelfSpawn | Call::Spend { .. } => 100_000,
            Call::Proxy { payload, .. } => per_byte(1_000_000, payload.len()),
            Call::Deploy { code } => per_byte(200_000, code.len()),
            Call::SpawnProgram { state, .. } => per_byte(500_000, state.len()),
        }
    }

    /// The address the call creates, computable before it runs: the
    /// template of a deploy, the program of a spawn, the wallet itself for a
    /// self-spawn. `None` for calls that create nothing.
    pub fn created_address(&self, wallet: &Address) -> Option<Address> {
        match self {
            Call::SelfSpawn => Some(*wallet),
            Call::Deploy { code } => Some(template_address(code)),
            Call::SpawnProgram { template, state } => Some(program_address(template, state)),
            _ => None,
        }
    }
}

/// Gas settings and nonce of one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxParams {
    /// The principal's nonce for this transaction.
    pub nonce: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Gas price.
    pub gas_price: u64,
}

/// A key bound to a wallet template and a network: everything needed to
/// derive the wallet's address and sign its transactions.
#[derive(Debug, Clone)]
pub struct Wallet {
    key: Key,
    template: Address,
    network: Network,
}

impl Wallet {
    /// A wallet of `template` owned by `key` on `network`.
    pub fn new(key: Key, template: Address, network: Network) -> Self {
        Self { key, template, network }
    }

    /// The wallet's address (also the principal of its transactions).
    pub fn address(&self) -> Address {
        wallet_address(&self.template, &self.key.public_bytes())
    }

    /// The wallet template.
    pub fn template(&self) -> &Address {
        &self.template
    }

    /// The network signatures are bound to.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The unsigned transaction for `call` (the self-spawn carries the
    /// template field).
    pub fn unsigned(&self, call: &Call, params: TxParams) -> UnsignedTransaction {
        call.unsigned(self.address(), self.template, &self.key.public_bytes(), params)
    }

    /// The signed transaction for `call`.
    pub fn sign(&self, call: &Call, params: TxParams) -> Transaction {
        sign_single(self.key.signing_key(), &self.network, self.unsigned(call, params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use athena_interface::Bytes32;
    use athena_transaction::{decode, split_payload, verify_single};
    use parity_scale_codec::Decode;

    /// The test vectors of docs/transactions.md.
    fn vector_wallet() -> Wallet {
        let genesis: [u8; 32] = std::array::from_fn(|i| i as u8 + 1);
        let template =
            Address::new(hex::decode("0000000104a78d666c0e7db5ff4220fa5af842d365250b86").unwrap().try_into().unwrap());
        Wallet::new(Key::from_seed([7; 32]), template, Network::test(Bytes32(genesis)))
    }

    #[test]
    fn reproduces_documented_vectors() {
        let w = vector_wallet();
        assert_eq!(hex::encode(w.address().0), "00000000754e76335dd4f2089f5ea7d78d1a293bd994a73e");
        let spawn = w.sign(&Call::SelfSpawn, TxParams { nonce: 0, gas_limit: 100_000, gas_price: 1 });
        assert_eq!(hex::encode(spawn.id().0), "0a11227c3c073d23607af71487ca5f8a4045500f05f6be02fa764ee473bc3046");
        let to =
            Address::new(hex::decode("000000003498753da601d6614afd828ffb0877cb71f3bfcc").unwrap().try_into().unwrap());
        let spend =
            w.sign(&Call::Spend { to, amount: 1_000_000 }, TxParams { nonce: 1, gas_limit: 50_000, gas_price: 2 });
        assert_eq!(hex::encode(spend.id().0), "528b91811033d123508c6a1cfef80cc2a41feb705f44069ab9a49ec5795f1b28");
        assert_eq!(wallet_address(w.template(), &Key::from_seed([8; 32]).public_bytes()), to);
    }

    #[test]
    fn every_call_decodes_and_verifies() {
        let w = vector_wallet();
        let other = Address::new([9; 24]);
        let calls = [
            Call::SelfSpawn,
            Call::Spend { to: other, amount: 5 },
            Call::Proxy { to: other, payload: vec![1, 2, 3, 4, 5], value: 7 },
            Call::Deploy { code: vec![0x7f; 100] },
            Call::SpawnProgram { template: other, state: vec![4; 3] },
        ];
        for (i, call) in calls.iter().enumerate() {
            let params = TxParams { nonce: i as u64, gas_limit: 123_456, gas_price: 3 };
            let bytes = w.sign(call, params).encode();
            let tx = decode(&bytes).unwrap();
            assert!(verify_single(&w.key().verifying_key(), w.network(), &tx));
            assert!(!verify_single(&w.key().verifying_key(), &Network::test(Bytes32::ZERO), &tx));
            assert_eq!(tx.body.principal, w.address());
            assert_eq!((tx.body.nonce, tx.body.gas_limit, tx.body.gas_price), (i as u64, 123_456, 3));
            assert_eq!(tx.body.template.is_some(), matches!(call, Call::SelfSpawn));
            let (sel, mut args) = split_payload(&tx.body.payload).unwrap();
            match call {
                Call::SelfSpawn => {
                    assert_eq!(sel, selector("spawn"));
                    assert_eq!(<[u8; 32]>::decode(&mut args).unwrap(), w.key().public_bytes());
                    assert_eq!(tx.body.template, Some(*w.template()));
                }
                Call::Spend { to, amount } => {
                    assert_eq!(sel, selector("spend"));
                    assert_eq!(<([u8; 24], u64)>::decode(&mut args).unwrap(), (to.0, *amount));
                }
                Call::Proxy { to, payload, value } => {
                    assert_eq!(sel, selector("proxy"));
                    assert_eq!(<([u8; 24], Vec<u8>, u64)>::decode(&mut args).unwrap(), (to.0, payload.clone(), *value));
                }
                Call::Deploy { code } => {
                    assert_eq!(sel, selector("deploy"));
                    assert_eq!(&Vec::<u8>::decode(&mut args).unwrap(), code);
                }
                Call::SpawnProgram { template, state } => {
                    assert_eq!(sel, selector("spawn_program"));
                    assert_eq!(<([u8; 24], Vec<u8>)>::decode(&mut args).unwrap(), (template.0, state.clone()));
                }
            }
            assert!(args.is_empty(), "trailing payload bytes for {call:?}");
        }
    }

    #[test]
    fn created_addresses_and_values() {
        let w = vector_wallet();
        let t = Address::new([0, 0, 0, 1, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
        assert_eq!(Call::SelfSpawn.created_address(&w.address()), Some(w.address()));
        assert_eq!(Call::Deploy { code: vec![1] }.created_address(&w.address()), Some(template_address(&[1])));
        let spawn = Call::SpawnProgram { template: t, state: vec![2] };
        assert_eq!(spawn.created_address(&w.address()), Some(program_address(&t, &[2])));
        assert_eq!(Call::Spend { to: t, amount: 3 }.created_address(&w.address()), None);
        assert_eq!(Call::Spend { to: t, amount: 3 }.value(), 3);
        assert_eq!(Call::Proxy { to: t, payload: vec![], value: 4 }.value(), 4);
        assert_eq!(spawn.value(), 0);
        assert!(Call::Deploy { code: vec![0; 8000] }.default_gas_limit() > 402_345);
        assert!(Call::Spend { to: t, amount: 3 }.default_gas_limit() > 42_695);
    }
}
