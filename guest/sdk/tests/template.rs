//! `#[template]` on the host: the method table (`Template`), selectors,
//! signatures, and host functions that refuse to run off the VM.

use athena_sdk::prelude::*;

#[derive(Encode, Decode)]
pub struct Wallet {
    owner: [u8; 32],
}

#[template]
impl Wallet {
    #[callable]
    pub fn verify(&self, message: Vec<u8>, authenticator: Vec<u8>) -> bool {
        !message.is_empty() && authenticator.len() == 64 && self.owner != [0; 32]
    }

    #[callable]
    pub fn max_spend(&self, _payload: Vec<u8>) -> u64 {
        0
    }

    #[callable]
    pub fn send(to: Address, amount: u64) -> Result<(), String> {
        let _ = (to, amount);
        Ok(())
    }

    /// Not callable: a plain helper.
    pub fn helper(&self) -> u8 {
        1
    }
}

fn blake3_prefix(name: &str) -> [u8; 4] {
    let hash = blake3::hash(name.as_bytes());
    hash.as_bytes()[..4].try_into().unwrap()
}

#[test]
fn the_method_table_lists_callables_with_their_selectors() {
    assert_eq!(Wallet::NAME, "Wallet");
    let names: Vec<_> = Wallet::METHODS.iter().map(|m| m.name).collect();
    assert_eq!(names, ["verify", "max_spend", "send", "spawn"], "declared order, then the generated spawn");
    for method in Wallet::METHODS {
        assert_eq!(method.selector, blake3_prefix(method.name), "{}", method.name);
    }
    let send = Wallet::method("send").unwrap();
    assert_eq!(send.signature, "(to: Address, amount: u64) -> Result<(), String>");
    assert_eq!(send.to_string(), format!("0x{}  send{}", hex(&send.selector), send.signature));
    assert!(Wallet::method("helper").is_none());
    assert_eq!(selector!("send"), send.selector);
}

#[test]
fn methods_stay_ordinary_rust() {
    let wallet = Wallet { owner: [1; 32] };
    assert!(wallet.verify(vec![1], vec![0; 64]));
    assert_eq!(wallet.helper(), 1);
    assert_eq!(Wallet::send(Address::ZERO, 5), Ok(()));
}

#[test]
#[should_panic(expected = "`GET_BALANCE` is only available inside the Athena VM")]
fn host_functions_panic_off_the_vm() {
    let _ = athena_sdk::balance();
}

#[test]
fn encode_call_is_the_selector_then_the_arguments() {
    let input = encode_call(selector!("send"), &(Address([7; 24]), 9u64));
    assert_eq!(&input[..4], &blake3_prefix("send"));
    assert_eq!(&input[4..28], &[7; 24]);
    assert_eq!(&input[28..], &9u64.to_le_bytes());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
