//! `Spawn` frames (top-level and from a guest's `SPAWN`), program state,
//! and deploying content-addressed templates (top-level and `DEPLOY`).

mod common;

use athena_engine::abi::number as n;
use athena_engine::EngineConfig;
use athena_interface::{Address, Bytes32, Host, StatusCode};
use athena_runtime::{Account, DeployError, Env, MemoryState, Overlay, Runtime};
use athena_transaction::{program_address, template_address};
use common::*;

const ALICE: Address = Address::new([0xa1; 24]);
const SPAWNER: Address = Address::new([0xaa; 24]);
const STATE: &[u8] = b"immutable spawn state";
/// storage-rw's key and value for inputs that are not 64 bytes long (such
/// as the 4-byte `spawn` selector).
const DEFAULT_KEY: Bytes32 = Bytes32::new([0x11; 32]);
const DEFAULT_VALUE: Bytes32 = Bytes32::new([0x22; 32]);

#[test]
fn deploy_is_content_addressed_idempotent_and_validated() {
    let mut world = World::default();
    let code = example("storage-rw");
    let (address, effects) = world.tx(|rt| rt.deploy_code(&code));
    let address = address.unwrap();
    assert_eq!(address, template_address(&code));
    assert_eq!(effects.changes.templates.get(&address).map(|c| c.len()), Some(code.len()));
    assert!(effects.changes.accounts.is_empty(), "a template is not an account");

    let (again, effects) = world.tx(|rt| rt.deploy_code(&code));
    assert_eq!(again, Ok(address));
    assert!(effects.changes.is_empty(), "redeploying changes nothing");

    let (bad, effects) = world.tx(|rt| rt.deploy_code(b"not an ELF file"));
    assert!(matches!(bad, Err(DeployError::Invalid(_))), "{bad:?}");
    assert!(effects.changes.is_empty());
    let max = athena_abi::MAX_DEPLOY_CODE as usize;
    let (big, _) = world.tx(|rt| rt.deploy_code(&vec![0; max + 1]));
    assert_eq!(big, Err(DeployError::TooLarge { len: max + 1, max }));
    let (host, _) = world.tx(|rt| (rt as &mut dyn Host).deploy(b"junk"));
    assert_eq!(host, Err(StatusCode::Failure));
    assert!(world.tx(|rt| (rt as &mut dyn Host).account_exists(&address)).0, "templates exist");
}

#[test]
fn spawn_creates_the_program_keeps_its_balance_and_runs_its_spawn_method() {
    let mut world = World::default();
    let template = world.deploy(&example("storage-rw"));
    let program = program_address(&template, STATE);
    world.fund(program, 5); // coins sent before the program exists
    world.fund(ALICE, 100);

    let (result, effects) = world.spawn(ALICE, template, STATE, 10);
    assert_eq!((result.status, result.output.as_slice()), (StatusCode::Success, program.as_bytes().as_slice()));
    assert!(result.gas_left > 0 && result.gas_left < GAS, "the spawn method ran");
    assert_eq!(world.state.accounts()[&program], Account { balance: 15, nonce: 0, template: Some(template) });
    assert_eq!(world.balance(&ALICE), 90);
    assert_eq!(effects.changes.states.get(&program).map(Vec::as_slice), Some(STATE));
    assert_eq!(world.storage(&program, &DEFAULT_KEY), DEFAULT_VALUE, "storage-rw wrote during spawn");
    let mut runtime = Runtime::new(&world.state, EngineConfig::default(), Env::default());
    assert_eq!((&mut runtime as &mut dyn Host).get_state(&program), STATE);

    // Same template and state: same address, already a program.
    let (again, effects) = world.spawn(ALICE, template, STATE, 10);
    assert_eq!(again.status, StatusCode::Failure);
    assert!(effects.changes.is_empty());
    assert_eq!(world.balance(&ALICE), 90);

    let (unknown, effects) = world.spawn(ALICE, addr(0x33), STATE, 0);
    assert_eq!(unknown.status, StatusCode::Failure);
    assert!(effects.changes.is_empty());
    let too_big = vec![0; athena_abi::MAX_SPAWN_STATE as usize + 1];
    assert_eq!(world.spawn(ALICE, template, &too_big, 0).0.status, StatusCode::Failure);
    let (poor, _) = world.spawn(ALICE, template, b"other state", 1_000);
    assert_eq!(poor.status, StatusCode::InsufficientBalance);
    assert_eq!(poor.gas_left, GAS);
    assert!(!world.exists(&program_address(&template, b"other state")));
}

#[test]
fn a_failing_spawn_method_undoes_the_creation_and_the_value() {
    // fib-call reads the 4-byte `spawn` selector as a huge `n` and recurses
    // until the depth limit makes it revert.
    let mut world = World { config: EngineConfig { max_call_depth: 3, ..EngineConfig::default() }, ..World::default() };
    let template = world.deploy(&example("fib-call"));
    world.fund(ALICE, 100);
    let (result, effects) = world.spawn(ALICE, template, STATE, 10);
    assert_eq!(result.status, StatusCode::Revert);
    assert_eq!(result.output, (StatusCode::CallDepthExceeded as u32).to_le_bytes());
    assert!(effects.changes.is_empty(), "{:?}", effects.changes);
    assert!(!world.exists(&program_address(&template, STATE)));
    assert_eq!(world.balance(&ALICE), 100);
}

/// A script that spawns `template` with [`STATE`] (data: template at 0,
/// state at 0x20, out at 0x100), then runs `then`.
fn spawner(template: Address, then: &[Op]) -> Vec<u8> {
    let mut data = vec![0u8; 0x120];
    data[..24].copy_from_slice(template.as_bytes());
    data[0x20..0x20 + STATE.len()].copy_from_slice(STATE);
    let mut ops = vec![sys(n::SPAWN, &[DATA, DATA + 0x20, STATE.len() as u32, DATA + 0x100])];
    ops.extend_from_slice(then);
    script(&ops, &data)
}

#[test]
fn guests_spawn_through_the_same_path() {
    let mut world = World::default();
    let template = world.deploy(&example("storage-rw"));
    let program = program_address(&template, STATE);
    world.install(SPAWNER, &spawner(template, &[sys(n::RETURN, &[DATA + 0x100, 24])]), b"");
    let (result, effects) = world.call(ALICE, SPAWNER, &[], 0);
    assert_eq!((result.status, result.output.as_slice()), (StatusCode::Success, program.as_bytes().as_slice()));
    assert_eq!(world.template_of(&program), Some(template));
    assert_eq!(world.storage(&program, &DEFAULT_KEY), DEFAULT_VALUE);
    assert_eq!(effects.changes.states.get(&program).map(Vec::as_slice), Some(STATE));

    // The second spawn of the same (template, state) fails; the first
    // spawn's program is kept as the caller continues.
    let mut world = World::default();
    let template = world.deploy(&example("storage-rw"));
    let twice = spawner(template, &[sys(n::SPAWN, &[DATA, DATA + 0x20, STATE.len() as u32, DATA + 0x100])]);
    world.install(SPAWNER, &twice, b"");
    let (result, _) = world.call(ALICE, SPAWNER, &[], 0);
    let steps = results(&result.output);
    assert_eq!((steps[0].0, steps[1].0), (StatusCode::Success as u32, StatusCode::Failure as u32));
    assert!(world.exists(&program));

    // A spawning frame that reverts takes its spawn with it.
    let mut world = World::default();
    let template = world.deploy(&example("storage-rw"));
    world.install(SPAWNER, &spawner(template, &[sys(n::REVERT, &[DATA, 0])]), b"");
    let (result, effects) = world.call(ALICE, SPAWNER, &[], 0);
    assert_eq!(result.status, StatusCode::Revert);
    assert!(effects.changes.is_empty() && !world.exists(&program));

    // Unknown template: a0 = failure, output zeroed.
    let mut world = World::default();
    world.install(SPAWNER, &spawner(addr(0x44), &[sys(n::RETURN, &[DATA + 0x100, 24])]), b"");
    let (result, _) = world.call(ALICE, SPAWNER, &[], 0);
    assert_eq!(result.output, [0; 24]);
}

#[test]
fn programs_read_their_state() {
    let mut world = World::default();
    // Returns its state; runs as the spawn method and as a call.
    let reader = script(&[sys(n::STATE_READ, &[DATA, 0, 64]), sys(n::RETURN, &[DATA, STATE.len() as u32])], &[]);
    let template = world.deploy(&reader);
    let (spawned, _) = world.spawn(ALICE, template, STATE, 0);
    assert!(spawned.is_success(), "{spawned:?}");
    let program = program_address(&template, STATE);
    let (result, _) = world.call(ALICE, program, &[], 0);
    assert_eq!(result.output, STATE);
    assert_eq!(Overlay::new(&world.state).program_state(&program), STATE);
    assert!(Overlay::new(&MemoryState::new()).program_state(&program).is_empty());
}

#[test]
fn guests_deploy_templates_and_reverts_undo_them() {
    let code = example("storage-rw");
    let deployer = |then: Op| {
        let mut data = vec![0u8; 0x100];
        data.extend_from_slice(&code);
        script(&[sys(n::DEPLOY, &[DATA + 0x100, code.len() as u32, DATA]), then], &data)
    };
    let mut world = World::default();
    world.install(SPAWNER, &deployer(sys(n::RETURN, &[DATA, 24])), b"");
    let (result, effects) = world.call(ALICE, SPAWNER, &[], 0);
    assert_eq!(result.output, template_address(&code).as_bytes());
    assert!(effects.changes.templates.contains_key(&template_address(&code)));

    let mut world = World::default();
    world.install(SPAWNER, &deployer(sys(n::REVERT, &[DATA, 0])), b"");
    let (result, effects) = world.call(ALICE, SPAWNER, &[], 0);
    assert_eq!(result.status, StatusCode::Revert);
    assert!(effects.changes.is_empty());
    assert!(!world.state.templates().contains_key(&template_address(&code)));
}
