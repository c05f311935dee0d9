//! What a proposal does, decoded from its payload (never from the file's
//! other fields) so each signer checks the bytes they sign.

use crate::builder::Call;
use athena_interface::Address;
use athena_transaction::{selector, split_payload, Network, UnsignedTransaction};
use parity_scale_codec::Decode;

/// The call a multisig (or wallet) payload makes, if it is one of the
/// account methods the CLI proposes and decodes without trailing bytes.
/// `self_spawn`: the transaction carries a template (its payload is then
/// `selector("spawn") ‖ state`, not a SCALE argument list).
pub fn decode_call(payload: &[u8], self_spawn: bool) -> Option<Call> {
    let (sel, mut args) = split_payload(payload)?;
    if self_spawn {
        return (sel == selector("spawn")).then_some(Call::SelfSpawn);
    }
    let call = if sel == selector("spend") {
        <([u8; 24], u64)>::decode(&mut args).ok().map(|(to, amount)| Call::Spend { to: Address::new(to), amount })
    } else if sel == selector("proxy") {
        <([u8; 24], Vec<u8>, u64)>::decode(&mut args).ok().map(|(to, payload, value)| Call::Proxy {
            to: Address::new(to),
            payload,
            value,
        })
    } else if sel == selector("deploy") {
        Vec::<u8>::decode(&mut args).ok().map(|code| Call::Deploy { code })
    } else if sel == selector("spawn_program") {
        <([u8; 24], Vec<u8>)>::decode(&mut args)
            .ok()
            .map(|(template, state)| Call::SpawnProgram { template: Address::new(template), state })
    } else {
        None
    };
    call.filter(|_| args.is_empty())
}

/// What a multisig (or wallet) payload does, decoded from the payload
/// itself, for the signer to check: one line.
pub fn describe_call(payload: &[u8], self_spawn: bool, network: &Network) -> String {
    let addr = |a: &Address| network.encode_address(a);
    match decode_call(payload, self_spawn) {
        Some(Call::SelfSpawn) => "self-spawn".to_owned(),
        Some(Call::Spend { to, amount }) => format!("spend {amount} coins to {}", addr(&to)),
        Some(Call::Proxy { to, payload, value }) => {
            let method =
                payload.get(..4).map_or_else(|| "(no selector)".to_owned(), |s| format!("0x{}", hex::encode(s)));
            format!(
                "call {} selector {method} with input {} and {value} coins",
                addr(&to),
                hex::encode(payload.get(4..).unwrap_or_default())
            )
        }
        Some(Call::Deploy { code }) => {
            format!("deploy a template of {} bytes (code blake3 {})", code.len(), blake3::hash(&code).to_hex())
        }
        Some(Call::SpawnProgram { template, state }) => {
            format!("spawn a program of template {} with state {}", addr(&template), hex::encode(state))
        }
        None => match split_payload(payload) {
            Some((sel, _)) => format!("payload {} (selector 0x{})", hex::encode(payload), hex::encode(sel)),
            None => format!("payload {} (no selector)", hex::encode(payload)),
        },
    }
}

/// A proposal's transaction as a signer should read it: what it does and
/// what it will create, both derived from the signed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// [`describe_call`]'s line.
    pub call: String,
    /// What the call creates (`"template"`, `"program"` or `"account"` for
    /// the self-spawn) and its address, known before it runs
    /// ([`Call::created_address`]).
    pub created: Option<(&'static str, Address)>,
    /// A deploy's code: its size and blake3 hash (what a signer compares
    /// with the ELF they expect).
    pub code: Option<(usize, [u8; 32])>,
}

impl Summary {
    /// The summary of `tx` (a multisig's or a wallet's transaction).
    pub fn of(tx: &UnsignedTransaction, network: &Network) -> Self {
        let self_spawn = tx.template.is_some();
        let call = decode_call(&tx.payload, self_spawn);
        let kind = match &call {
            Some(Call::SelfSpawn) => Some("account"),
            Some(Call::Deploy { .. }) => Some("template"),
            Some(Call::SpawnProgram { .. }) => Some("program"),
            _ => None,
        };
        let created = call.as_ref().and_then(|c| c.created_address(&tx.principal)).zip(kind).map(|(a, k)| (k, a));
        let code = match &call {
            Some(Call::Deploy { code }) => Some((code.len(), *blake3::hash(code).as_bytes())),
            _ => None,
        };
        Self { call: describe_call(&tx.payload, self_spawn, network), created, code }
    }
}
