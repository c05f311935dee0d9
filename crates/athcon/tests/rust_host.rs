//! A Rust host driving the VM through the C ABI (`athcon::client`): the
//! same path a foreign host takes, but in-process and with `MockHost`
//! state. Covers re-entrant calls, threads on one instance, the dynamic
//! loader, and panics inside host callbacks.

mod common;

use athcon::client::{Library, Vm};
use athena_interface::mock::MockHost;
use athena_interface::{Address, Bytes32, ExecutionResult, Host, Message, StatusCode, StorageStatus, TxContext};
use common::*;

/// `MockHost` state whose `call` re-enters the VM through the C ABI with
/// the recipient's code, inside a checkpoint.
struct ReentrantHost<'v> {
    vm: &'v Vm,
    state: MockHost,
    panic_on_balance: bool,
}

impl Host for ReentrantHost<'_> {
    fn account_exists(&self, a: &Address) -> bool {
        self.state.account_exists(a)
    }
    fn get_storage(&self, a: &Address, k: &Bytes32) -> Bytes32 {
        self.state.get_storage(a, k)
    }
    fn set_storage(&mut self, a: &Address, k: &Bytes32, v: &Bytes32) -> StorageStatus {
        self.state.set_storage(a, k, v)
    }
    fn get_balance(&self, a: &Address) -> u64 {
        assert!(!self.panic_on_balance, "host bug: balance lookup panicked");
        self.state.get_balance(a)
    }
    fn call(&mut self, msg: Message) -> ExecutionResult {
        let code = self.state.accounts.get(&msg.recipient).map(|a| a.code.clone()).unwrap_or_default();
        let checkpoint = self.state.checkpoint();
        let vm = self.vm;
        let result = vm.execute(self, 0, &msg, &code);
        if result.is_success() {
            self.state.commit(checkpoint);
        } else {
            self.state.revert_to(checkpoint);
        }
        result
    }
    fn spawn(&mut self, t: &Address, s: &[u8]) -> Result<Address, StatusCode> {
        self.state.spawn(t, s)
    }
    fn deploy(&mut self, code: &[u8]) -> Result<Address, StatusCode> {
        self.state.deploy(code)
    }
    fn get_tx_context(&self) -> TxContext {
        self.state.get_tx_context()
    }
    fn get_block_hash(&self, h: u64) -> Bytes32 {
        self.state.get_block_hash(h)
    }
    fn emit_log(&mut self, a: &Address, t: &[Bytes32], d: &[u8]) {
        self.state.emit_log(a, t, d)
    }
}

const FIB: Address = Address([0xf1; 24]);

fn fib(vm: &Vm, n: u32) -> (ExecutionResult, u64) {
    let (_, fib_call) = guests();
    let code = std::fs::read(fib_call).unwrap();
    let mut state = MockHost::new();
    state.accounts.entry(FIB).or_default().code = code.clone();
    let mut host = ReentrantHost { vm, state, panic_on_balance: false };
    let msg = Message { gas: 5_000_000_000, recipient: FIB, input: n.to_le_bytes().to_vec(), ..Message::default() };
    let result = vm.execute(&mut host, 0, &msg, &code);
    let gas = msg.gas - result.gas_left;
    (result, gas)
}

fn fib_value(r: &ExecutionResult) -> u64 {
    u64::from_le_bytes(r.output.as_slice().try_into().unwrap_or_else(|_| panic!("{r:?}")))
}

#[test]
fn reentrant_fib_through_the_c_abi() {
    let vm = Vm::athena();
    let expected = [0u64, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55];
    let mut last_gas = 0;
    for (n, want) in expected.iter().enumerate() {
        let (r, gas) = fib(&vm, n as u32);
        assert_eq!((r.status, fib_value(&r)), (StatusCode::Success, *want), "fib({n})");
        if n >= 2 {
            assert!(gas > last_gas, "fib({n}) gas {gas} <= {last_gas}");
        }
        last_gas = gas;
    }
    // Deterministic: a second run costs exactly the same.
    assert_eq!(fib(&vm, 10).1, last_gas);
}

#[test]
fn depth_limit_option() {
    let mut vm = Vm::athena();
    assert_eq!(vm.set_option("max_call_depth", "2"), Some(athcon::ffi::set_option::SUCCESS));
    let (r, _) = fib(&vm, 5);
    assert_eq!(r.status, StatusCode::Revert);
    assert_eq!(r.output, (StatusCode::CallDepthExceeded as u32).to_le_bytes());
    assert_eq!(vm.set_option("max_call_depth", "65"), Some(athcon::ffi::set_option::INVALID_VALUE));
    assert_eq!(vm.set_option("max_call_depth", "default"), Some(athcon::ffi::set_option::SUCCESS));
    assert_eq!(fib_value(&fib(&vm, 5).0), 5);
}

#[test]
fn threads_share_one_instance() {
    let vm = Vm::athena();
    let (want, want_gas) = fib(&vm, 9);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8).map(|_| s.spawn(|| (0..4).map(|_| fib(&vm, 9)).collect::<Vec<_>>())).collect();
        for h in handles {
            for (r, gas) in h.join().unwrap() {
                assert_eq!((&r, gas), (&want, want_gas));
            }
        }
    });
}

#[test]
fn the_loaded_cdylib_behaves_like_the_linked_vm() {
    let lib = Library::load(cdylib()).expect("load libathcon");
    assert_eq!(lib.create_symbol(), "athcon_create");
    let vm = lib.create().unwrap();
    assert_eq!(vm.name().as_deref(), Some("athena"));
    assert_eq!(fib(&vm, 8), fib(&Vm::athena(), 8));
    // Instances are independent: options of one do not leak into another.
    let mut a = lib.create().unwrap();
    a.set_option("max_call_depth", "1");
    assert_eq!(fib(&lib.create().unwrap(), 4).0.status, StatusCode::Success);
    assert_eq!(fib(&a, 4).0.status, StatusCode::Revert);
}

/// A panic in a Rust host callback must not unwind through the VM's
/// frames: the bridge catches it, the VM finishes, and the panic resumes
/// in the caller.
#[test]
fn host_panic_is_carried_across_the_vm() {
    let vm = Vm::athena();
    // A guest that reads a balance: GET_BALANCE(0) then HALT.
    use athena_test_elf::{asm, ElfBuilder};
    let mut words = vec![asm::addi(asm::A0, 0, 0)];
    words.extend(asm::li(asm::T0, athena_engine::abi::number::GET_BALANCE));
    words.extend([asm::ECALL, asm::addi(asm::A0, 0, 0), asm::addi(asm::T0, 0, 0), asm::ECALL]);
    let code = ElfBuilder::new(0x10000).text(0x10000, &words).build();
    let mut host = ReentrantHost { vm: &vm, state: MockHost::new(), panic_on_balance: false };
    let msg = Message { gas: 1_000_000, ..Message::default() };
    assert_eq!(vm.execute(&mut host, 0, &msg, &code).status, StatusCode::Success);
    host.panic_on_balance = true;
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vm.execute(&mut host, 0, &msg, &code)));
    let payload = caught.expect_err("the host's panic resumes in the caller");
    let text =
        payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()));
    assert!(text.unwrap_or_default().contains("balance lookup panicked"));
    // The instance is still usable.
    host.panic_on_balance = false;
    assert_eq!(vm.execute(&mut host, 0, &msg, &code).status, StatusCode::Success);
}
