//! `#[repr(C)]` mirrors of every type in `include/athcon.h`, plus
//! conversions to and from the Rust types of `athena-interface`.
//!
//! Field order, types and sizes must match the header exactly; the layout
//! tests at the bottom pin the sizes and offsets that the header implies on
//! 64-bit targets, and the C host compiles the header itself.

use athena_interface::{Address, Bytes32, Message, MessageKind, TxContext};
use std::ffi::{c_char, c_void};

/// `ATHCON_ABI_VERSION`. 2: `get_state` added, `spawn` removed (a spawn is a
/// `call` with kind `ATHCON_SPAWN`).
pub const ATHCON_ABI_VERSION: u32 = 2;

/// `ATHCON_MAX_INPUT_SIZE`: the largest `input_size` this VM accepts.
pub const ATHCON_MAX_INPUT_SIZE: usize = 1024 * 1024;

/// `ATHCON_MAX_STATE_SIZE`: the largest program state (a spawn's state
/// blob, `athena_abi::MAX_SPAWN_STATE`); the capacity of the buffer the VM
/// passes to `get_state`.
pub const ATHCON_MAX_STATE_SIZE: usize = athena_engine::abi::MAX_SPAWN_STATE as usize;

/// `enum athcon_call_kind` values (`athcon_message.kind`), the same numbers
/// as `athena_interface::MessageKind`.
pub mod call_kind {
    /// `ATHCON_CALL`: run the recipient's code.
    pub const CALL: u32 = 0;
    /// `ATHCON_SPAWN`: create a program from the template `recipient` with
    /// the state `input` (see `athcon_call_fn`).
    pub const SPAWN: u32 = 1;
    /// `ATHCON_DEPLOY`: store new template code.
    pub const DEPLOY: u32 = 2;
}

/// `enum athcon_set_option_result` values.
pub mod set_option {
    /// The option was set.
    pub const SUCCESS: i32 = 0;
    /// No option has that name.
    pub const INVALID_NAME: i32 = 1;
    /// The option exists but the value is not accepted.
    pub const INVALID_VALUE: i32 = 2;
    /// Any other failure (e.g. a NULL or non-UTF-8 name).
    pub const ERROR: i32 = 3;
}

/// `athcon_address`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct athcon_address {
    /// The 24 address bytes.
    pub bytes: [u8; 24],
}

/// `athcon_bytes32`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct athcon_bytes32 {
    /// The 32 bytes.
    pub bytes: [u8; 32],
}

/// `From` both ways between a C byte array struct (`{ bytes }`) and its
/// `athena-interface` newtype, so each mirror pair is written once.
macro_rules! bytes_conversions {
    ($c:ident <=> $rust:ident) => {
        impl From<$rust> for $c {
            fn from(v: $rust) -> Self {
                Self { bytes: v.0 }
            }
        }

        impl From<$c> for $rust {
            fn from(v: $c) -> Self {
                $rust(v.bytes)
            }
        }
    };
}

bytes_conversions!(athcon_address <=> Address);
bytes_conversions!(athcon_bytes32 <=> Bytes32);

/// `struct athcon_message`. Borrowed from its creator; `input_data` may be
/// null only when `input_size` is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct athcon_message {
    /// `enum athcon_call_kind`.
    pub kind: u32,
    /// Call depth.
    pub depth: u32,
    /// Gas available to the frame.
    pub gas: u64,
    /// Account whose code runs.
    pub recipient: athcon_address,
    /// Immediate caller.
    pub sender: athcon_address,
    /// Sender's template; all-zero means none.
    pub sender_template: athcon_address,
    /// Call data.
    pub input_data: *const u8,
    /// Length of `input_data`.
    pub input_size: usize,
    /// Coins transferred with the message.
    pub value: u64,
}

impl athcon_message {
    /// `msg` in C form. `input_data` borrows `msg.input` (null when it is
    /// empty), so the struct must not be used after `msg` is gone.
    pub fn borrowing(msg: &Message) -> Self {
        Self {
            kind: msg.kind as u32,
            depth: msg.depth,
            gas: msg.gas,
            recipient: msg.recipient.into(),
            sender: msg.sender.into(),
            sender_template: msg.sender_template_raw().into(),
            input_data: if msg.input.is_empty() { std::ptr::null() } else { msg.input.as_ptr() },
            input_size: msg.input.len(),
            value: msg.value,
        }
    }

    /// The [`Message`] this struct describes, with `kind` and `input`
    /// decoded and copied by the caller (who decides what a bad kind or
    /// input pointer means).
    pub fn to_message(&self, kind: MessageKind, input: Vec<u8>) -> Message {
        Message {
            kind,
            depth: self.depth,
            gas: self.gas,
            recipient: self.recipient.into(),
            sender: self.sender.into(),
            sender_template: Message::sender_template_from_raw(self.sender_template.into()),
            input,
            value: self.value,
        }
    }
}

/// `struct athcon_tx_context`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct athcon_tx_context {
    /// Price per unit of gas.
    pub gas_price: u64,
    /// Originating principal.
    pub origin: athcon_address,
    /// Block height.
    pub block_height: u64,
    /// Block timestamp (Unix seconds).
    pub block_timestamp: u64,
    /// Block gas limit.
    pub block_gas_limit: u64,
    /// Chain identifier.
    pub chain_id: athcon_bytes32,
}

/// `From` both ways between two structs with the same field names, each
/// field converted with `Into`, so the field list is written once.
macro_rules! field_conversions {
    ($a:ident <=> $b:ident { $($field:ident),* $(,)? }) => {
        impl From<$a> for $b {
            fn from(v: $a) -> Self {
                Self { $($field: v.$field.into()),* }
            }
        }

        impl From<$b> for $a {
            fn from(v: $b) -> Self {
                Self { $($field: v.$field.into()),* }
            }
        }
    };
}

field_conversions!(TxContext <=> athcon_tx_context {
    gas_price,
    origin,
    block_height,
    block_timestamp,
    block_gas_limit,
    chain_id,
});

/// `athcon_release_result_fn`.
pub type athcon_release_result_fn = Option<unsafe extern "C" fn(result: *const athcon_result)>;

/// `union athcon_result_private`: creator-private words of a result.
#[repr(C)]
#[derive(Clone, Copy)]
pub union athcon_result_private {
    /// A pointer.
    pub pointer: *mut c_void,
    /// A 64-bit word.
    pub word: u64,
    /// Raw bytes (fixes the size at 32).
    pub bytes: [u8; 32],
}

impl athcon_result_private {
    /// All zero.
    pub const ZERO: Self = Self { bytes: [0; 32] };
}

impl std::fmt::Debug for athcon_result_private {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("athcon_result_private(..)")
    }
}

/// `struct athcon_result`. Owned by whoever receives it, who must call
/// `release` (if non-null) exactly once.
#[repr(C)]
#[derive(Debug)]
pub struct athcon_result {
    /// `enum athcon_status_code`.
    pub status_code: i32,
    /// Gas left.
    pub gas_left: u64,
    /// Output bytes, owned by the result's creator.
    pub output_data: *const u8,
    /// Length of `output_data`.
    pub output_size: usize,
    /// Frees the creator's allocations; null when there is nothing to free.
    pub release: athcon_release_result_fn,
    /// Creator-private data.
    pub private_data: athcon_result_private,
}

/// `struct athcon_host_context`: opaque, host-defined.
#[repr(C)]
pub struct athcon_host_context {
    _private: [u8; 0],
}

/// `athcon_account_exists_fn`.
pub type athcon_account_exists_fn =
    Option<unsafe extern "C" fn(context: *mut athcon_host_context, address: *const athcon_address) -> bool>;
/// `athcon_get_storage_fn`.
pub type athcon_get_storage_fn = Option<
    unsafe extern "C" fn(
        context: *mut athcon_host_context,
        address: *const athcon_address,
        key: *const athcon_bytes32,
    ) -> athcon_bytes32,
>;
/// `athcon_set_storage_fn`.
pub type athcon_set_storage_fn = Option<
    unsafe extern "C" fn(
        context: *mut athcon_host_context,
        address: *const athcon_address,
        key: *const athcon_bytes32,
        value: *const athcon_bytes32,
    ) -> u32,
>;
/// `athcon_get_balance_fn`.
pub type athcon_get_balance_fn =
    Option<unsafe extern "C" fn(context: *mut athcon_host_context, address: *const athcon_address) -> u64>;
/// `athcon_call_fn`.
pub type athcon_call_fn =
    Option<unsafe extern "C" fn(context: *mut athcon_host_context, msg: *const athcon_message) -> athcon_result>;
/// `athcon_get_state_fn`: writes `min(len, out_capacity)` bytes of the
/// state of `address` to `out` and returns the full length `len`.
pub type athcon_get_state_fn = Option<
    unsafe extern "C" fn(
        context: *mut athcon_host_context,
        address: *const athcon_address,
        out: *mut u8,
        out_capacity: usize,
    ) -> usize,
>;
/// `athcon_deploy_fn`.
pub type athcon_deploy_fn = Option<
    unsafe extern "C" fn(
        context: *mut athcon_host_context,
        code: *const u8,
        code_size: usize,
        address_out: *mut athcon_address,
    ) -> i32,
>;
/// `athcon_get_tx_context_fn`.
pub type athcon_get_tx_context_fn =
    Option<unsafe extern "C" fn(context: *mut athcon_host_context) -> athcon_tx_context>;
/// `athcon_get_block_hash_fn`.
pub type athcon_get_block_hash_fn =
    Option<unsafe extern "C" fn(context: *mut athcon_host_context, height: u64) -> athcon_bytes32>;
/// `athcon_emit_log_fn`.
pub type athcon_emit_log_fn = Option<
    unsafe extern "C" fn(
        context: *mut athcon_host_context,
        address: *const athcon_address,
        topics: *const athcon_bytes32,
        topics_count: usize,
        data: *const u8,
        data_size: usize,
    ),
>;

/// `struct athcon_host_interface`. Every member must be non-null (the VM
/// checks and rejects the request otherwise).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct athcon_host_interface {
    /// See `athcon_account_exists_fn`.
    pub account_exists: athcon_account_exists_fn,
    /// See `athcon_get_storage_fn`.
    pub get_storage: athcon_get_storage_fn,
    /// See `athcon_set_storage_fn`.
    pub set_storage: athcon_set_storage_fn,
    /// See `athcon_get_balance_fn`.
    pub get_balance: athcon_get_balance_fn,
    /// See `athcon_call_fn`.
    pub call: athcon_call_fn,
    /// See `athcon_get_state_fn`.
    pub get_state: athcon_get_state_fn,
    /// See `athcon_deploy_fn`.
    pub deploy: athcon_deploy_fn,
    /// See `athcon_get_tx_context_fn`.
    pub get_tx_context: athcon_get_tx_context_fn,
    /// See `athcon_get_block_hash_fn`.
    pub get_block_hash: athcon_get_block_hash_fn,
    /// See `athcon_emit_log_fn`.
    pub emit_log: athcon_emit_log_fn,
}

impl athcon_host_interface {
    /// Whether every callback is present.
    pub fn is_complete(&self) -> bool {
        self.account_exists.is_some()
            && self.get_storage.is_some()
            && self.set_storage.is_some()
            && self.get_balance.is_some()
            && self.call.is_some()
            && self.get_state.is_some()
            && self.deploy.is_some()
            && self.get_tx_context.is_some()
            && self.get_block_hash.is_some()
            && self.emit_log.is_some()
    }
}

/// `athcon_destroy_fn`.
pub type athcon_destroy_fn = Option<unsafe extern "C" fn(vm: *mut athcon_vm)>;
/// `athcon_execute_fn`.
pub type athcon_execute_fn = Option<
    unsafe extern "C" fn(
        vm: *mut athcon_vm,
        host: *const athcon_host_interface,
        context: *mut athcon_host_context,
        revision: u32,
        msg: *const athcon_message,
        code: *const u8,
        code_size: usize,
    ) -> athcon_result,
>;
/// `athcon_get_capabilities_fn`.
pub type athcon_get_capabilities_fn = Option<unsafe extern "C" fn(vm: *mut athcon_vm) -> u32>;
/// `athcon_set_option_fn`.
pub type athcon_set_option_fn =
    Option<unsafe extern "C" fn(vm: *mut athcon_vm, name: *const c_char, value: *const c_char) -> i32>;

/// `struct athcon_vm`: the public head of a VM instance.
#[repr(C)]
#[derive(Debug)]
pub struct athcon_vm {
    /// Must equal [`ATHCON_ABI_VERSION`].
    pub abi_version: u32,
    /// NUL-terminated static name.
    pub name: *const c_char,
    /// NUL-terminated static version.
    pub version: *const c_char,
    /// Destroys the instance.
    pub destroy: athcon_destroy_fn,
    /// Executes a message.
    pub execute: athcon_execute_fn,
    /// Reports capabilities.
    pub get_capabilities: athcon_get_capabilities_fn,
    /// Sets an option; may be null.
    pub set_option: athcon_set_option_fn,
}

/// `athcon_create*`'s type, for loaders.
pub type athcon_create_fn = unsafe extern "C" fn() -> *mut athcon_vm;

#[cfg(all(test, target_pointer_width = "64"))]
mod layout_tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    #[test]
    fn sizes_and_offsets_match_the_header() {
        assert_eq!(size_of::<athcon_address>(), 24);
        assert_eq!(size_of::<athcon_bytes32>(), 32);
        assert_eq!(align_of::<athcon_address>(), 1);

        assert_eq!(offset_of!(athcon_message, gas), 8);
        assert_eq!(offset_of!(athcon_message, recipient), 16);
        assert_eq!(offset_of!(athcon_message, sender_template), 64);
        assert_eq!(offset_of!(athcon_message, input_data), 88);
        assert_eq!(offset_of!(athcon_message, value), 104);
        assert_eq!(size_of::<athcon_message>(), 112);

        assert_eq!(offset_of!(athcon_tx_context, origin), 8);
        assert_eq!(offset_of!(athcon_tx_context, block_height), 32);
        assert_eq!(offset_of!(athcon_tx_context, chain_id), 56);
        assert_eq!(size_of::<athcon_tx_context>(), 88);

        assert_eq!(size_of::<athcon_result_private>(), 32);
        assert_eq!(offset_of!(athcon_result, gas_left), 8);
        assert_eq!(offset_of!(athcon_result, output_data), 16);
        assert_eq!(offset_of!(athcon_result, release), 32);
        assert_eq!(offset_of!(athcon_result, private_data), 40);
        assert_eq!(size_of::<athcon_result>(), 72);

        assert_eq!(size_of::<athcon_host_interface>(), 10 * 8);
        assert_eq!(offset_of!(athcon_vm, name), 8);
        assert_eq!(size_of::<athcon_vm>(), 7 * 8);
    }
}
