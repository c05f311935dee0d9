//! A Rust host driving the VM through the C ABI (`athcon::client`): the
//! same path a foreign host takes, but in-process and with `MockHost`
//! state. Covers re-entrant calls, threads on one instance, the dynamic
//! loader, and panics inside host callbacks.

mod common;

use athcon::client::{Library, Vm};
use athena_interface::mock::{MockHost, MockWrapper};
use athena_interface::{Address, ExecutionResult, Host, Message, MessageKind, StatusCode, SPAWN_SELECTOR};
use common::*;

/// `MockHost` state whose `call` re-enters the VM through the C ABI with
/// the recipient's code, inside a checkpoint; spawn messages create the
/// program first and run its template's code with the spawn selector.
struct ReentrantHost<'v> {
    vm: &'v Vm,
    state: MockHost,
    panic_on_balance: bool,
    /// Served by `get_state` instead of the account's state, if set.
    state_override: Option<Vec<u8>>,
}

impl<'v> ReentrantHost<'v> {
    fn new(vm: &'v Vm, state: MockHost) -> Self {
        Self { vm, state, panic_on_balance: false, state_override: None }
    }
}

impl MockWrapper for ReentrantHost<'_> {
    fn mock(&self) -> &MockHost {
        &self.state
    }
    fn mock_mut(&mut self) -> &mut MockHost {
        &mut self.state
    }
    fn get_balance(&self, a: &Address) -> u64 {
        assert!(!self.panic_on_balance, "host bug: balance lookup panicked");
        self.state.get_balance(a)
    }
    fn call(&mut self, mut msg: Message) -> ExecutionResult {
        self.state.calls.push(msg.clone());
        let checkpoint = self.state.checkpoint();
        let template = msg.recipient;
        let spawned = if msg.kind == MessageKind::Spawn {
            let Some(program) = self.state.spawn_program(&template, &msg.input) else {
                self.state.revert_to(checkpoint);
                return ExecutionResult::failure(StatusCode::Failure);
            };
            msg.recipient = program;
            msg.input = SPAWN_SELECTOR.to_vec();
            Some(program)
        } else {
            None
        };
        let account = self.state.accounts.get(&msg.recipient);
        let code_at = account.and_then(|a| a.template).unwrap_or(msg.recipient);
        let code = self.state.accounts.get(&code_at).map(|a| a.code.clone()).unwrap_or_default();
        let vm = self.vm;
        let mut result = vm.execute(self, 0, &msg, &code);
        if result.is_success() {
            self.state.commit(checkpoint);
            if let Some(program) = spawned {
                result.output = program.as_bytes().to_vec();
            }
        } else {
            self.state.revert_to(checkpoint);
        }
        result
    }
    fn get_state(&self, a: &Address) -> Vec<u8> {
        self.state_override.clone().unwrap_or_else(|| self.state.get_state(a))
    }
}

const FIB: Address = Address([0xf1; 24]);

fn fib(vm: &Vm, n: u32) -> (ExecutionResult, u64) {
    let (_, fib_call) = guests();
    let code = std::fs::read(fib_call).unwrap();
    let mut state = MockHost::new();
    state.accounts.entry(FIB).or_default().code = code.clone();
    let mut host = ReentrantHost::new(vm, state);
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
    let mut host = ReentrantHost::new(&vm, MockHost::new());
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

const FACTORY: Address = Address([0xfa; 24]);
const ECHO: Address = Address([0xec; 24]);
const REVERTER: Address = Address([0x4e; 24]);

fn spawn_world(vm: &Vm) -> ReentrantHost<'_> {
    let mut state = MockHost::new();
    for (address, code) in [(FACTORY, programs::factory()), (ECHO, programs::echo()), (REVERTER, programs::reverter())]
    {
        state.accounts.entry(address).or_default().code = code;
    }
    ReentrantHost::new(vm, state)
}

/// Runs the factory with `template ‖ state`; its status word and out bytes.
fn factory_spawn(host: &mut ReentrantHost<'_>, template: Address, state: &[u8]) -> (u32, Address) {
    let input = [template.as_bytes(), state].concat();
    let msg = Message { gas: 100_000_000, recipient: FACTORY, input, ..Message::default() };
    let vm = host.vm;
    let r = vm.execute(host, 0, &msg, &programs::factory());
    assert_eq!((r.status, r.output.len()), (StatusCode::Success, 28), "{r:?}");
    let word = u32::from_le_bytes(r.output[..4].try_into().unwrap());
    (word, Address::try_from(&r.output[4..]).unwrap())
}

#[test]
fn spawn_is_a_call_message_and_the_program_reads_its_state() {
    let vm = Vm::athena();
    let mut host = spawn_world(&vm);
    let (word, program) = factory_spawn(&mut host, ECHO, b"rust host state");
    assert_eq!(word, 0);
    assert_eq!(host.state.accounts[&program].template, Some(ECHO));
    let spawn = &host.state.calls[0];
    assert_eq!(
        (spawn.kind, spawn.recipient, spawn.depth, spawn.input.as_slice()),
        (MessageKind::Spawn, ECHO, 1, &b"rust host state"[..])
    );
    // The echo template's spawn method read the state (through the C ABI's
    // get_state) and succeeded; calling the program returns it again.
    let msg = Message { gas: 10_000_000, recipient: program, ..Message::default() };
    let r = vm.execute(&mut host, 0, &msg, &programs::echo());
    assert_eq!((r.status, r.output.as_slice()), (StatusCode::Success, &b"rust host state"[..]));

    let (word, out) = factory_spawn(&mut host, REVERTER, b"x");
    assert_eq!((word, out), (StatusCode::Revert as u32, Address::ZERO));
    let (word, out) = factory_spawn(&mut host, Address([0x33; 24]), b"x");
    assert_eq!((word, out), (StatusCode::Failure as u32, Address::ZERO));
    assert_eq!(host.state.accounts.values().filter(|a| a.template.is_some()).count(), 1);
    assert_eq!(host.state.checkpoint_depth(), 0);
}

#[test]
fn state_over_the_bound_from_a_host_is_an_internal_error() {
    let vm = Vm::athena();
    let mut host = spawn_world(&vm);
    let msg = Message { gas: 10_000_000, recipient: Address([1; 24]), ..Message::default() };
    host.state_override = Some(vec![5; athcon::ffi::ATHCON_MAX_STATE_SIZE]);
    let r = vm.execute(&mut host, 0, &msg, &programs::echo());
    assert_eq!((r.status, r.output.len()), (StatusCode::Success, athcon::ffi::ATHCON_MAX_STATE_SIZE));
    host.state_override = Some(vec![5; athcon::ffi::ATHCON_MAX_STATE_SIZE + 1]);
    let r = vm.execute(&mut host, 0, &msg, &programs::echo());
    assert_eq!(r.status, StatusCode::InternalError);
}
