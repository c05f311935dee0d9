//! Loading a genesis file ([`Genesis`]) into the height-0 state and the
//! network's genesis id.
//!
//! The genesis id is `blake3_derive_key("athena genesis v1", SCALE(canonical))`
//! where the canonical form holds the contents only, sorted: the HRP and
//! name, funded accounts by address, template *code hashes* (not paths),
//! and programs by address. Two files that describe the same state (other
//! paths, other key order) get the same id; any change of content gets
//! another, and with it every signature changes (the id is in the signed
//! message).

use crate::types::Genesis;
use athena_interface::{Address, Bytes32};
use athena_runtime::{Account, ChangeSet};
use athena_transaction::{address_kind, program_address, template_address, AddressKind, Network};
use parity_scale_codec::Encode;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// Key-derivation context of the genesis id.
pub const GENESIS_ID_CONTEXT: &str = "athena genesis v1";

/// A genesis file that could not be turned into a state.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid genesis JSON.
    #[error("genesis file is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The contents break a rule.
    #[error("invalid genesis: {0}")]
    Invalid(String),
}

/// A loaded genesis: the network, its id and the height-0 state.
#[derive(Debug, Clone)]
pub struct LoadedGenesis {
    /// The network (HRP and genesis id).
    pub network: Network,
    /// The genesis id (also in `network`).
    pub genesis_id: [u8; 32],
    /// The state to commit at height 0.
    pub changes: ChangeSet,
    /// The templates deployed: file name (as written in the file) → address.
    pub templates: BTreeMap<String, Address>,
}

/// A genesis program in canonical form: address, template, state, balance.
type CanonicalProgram = ([u8; 24], [u8; 24], Vec<u8>, u64);

/// The canonical, hashed form of a genesis (see the module docs).
#[derive(Encode)]
struct Canonical {
    version: u8,
    network: String,
    name: String,
    accounts: Vec<([u8; 24], u64)>,
    templates: Vec<[u8; 32]>,
    programs: Vec<CanonicalProgram>,
}

/// Reads and loads the genesis file at `path`; template paths are relative
/// to the file's directory.
pub fn load_genesis(path: &Path) -> Result<LoadedGenesis, GenesisError> {
    let text = std::fs::read(path).map_err(|source| GenesisError::Io { path: path.display().to_string(), source })?;
    let genesis: Genesis = serde_json::from_slice(&text)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut codes = BTreeMap::new();
    for name in &genesis.templates {
        let file = base.join(name);
        let code =
            std::fs::read(&file).map_err(|source| GenesisError::Io { path: file.display().to_string(), source })?;
        codes.insert(name.clone(), code);
    }
    build_genesis(&genesis, &codes)
}

/// Builds the genesis state from the parsed file and the code of each of its
/// templates (`codes[name]` for every name in `genesis.templates`).
pub fn build_genesis(genesis: &Genesis, codes: &BTreeMap<String, Vec<u8>>) -> Result<LoadedGenesis, GenesisError> {
    let invalid = |msg: String| GenesisError::Invalid(msg);
    // The HRP is checked with a placeholder id; the real one is computed below.
    let probe = Network::new(&genesis.network, Bytes32::ZERO).map_err(|e| invalid(e.to_string()))?;

    let mut changes = ChangeSet::default();
    let mut templates = BTreeMap::new();
    let mut code_hashes = BTreeSet::new();
    for name in &genesis.templates {
        let code = codes.get(name).ok_or_else(|| invalid(format!("no code for template {name:?}")))?;
        if code.len() > athena_abi::MAX_DEPLOY_CODE as usize {
            return Err(invalid(format!("template {name:?} is {} bytes, over the deploy limit", code.len())));
        }
        athena_vm::Program::from_elf(code)
            .map_err(|e| invalid(format!("template {name:?} is not a loadable program: {e}")))?;
        if !code_hashes.insert(*blake3::hash(code).as_bytes()) {
            return Err(invalid(format!("template {name:?} is listed twice")));
        }
        let address = template_address(code);
        changes.templates.insert(address, Arc::from(code.as_slice()));
        templates.insert(name.clone(), address);
    }

    let mut total: u64 = 0;
    let mut add_supply = |amount: u64| -> Result<(), GenesisError> {
        total = total.checked_add(amount).ok_or_else(|| invalid("total supply overflows u64".into()))?;
        Ok(())
    };
    for (text, balance) in &genesis.accounts {
        let address = probe.parse_address(text).map_err(|e| invalid(format!("account {text:?}: {e}")))?;
        if address_kind(&address) != AddressKind::Program {
            return Err(invalid(format!("account {text:?} is a template address, which cannot hold coins")));
        }
        add_supply(*balance)?;
        if changes.accounts.insert(address, Account { balance: *balance, ..Account::default() }).is_some() {
            return Err(invalid(format!("account {text:?} is listed twice")));
        }
    }
    let mut programs = Vec::new();
    for program in &genesis.programs {
        let template = match templates.get(&program.template) {
            Some(address) => *address,
            None => {
                let address = probe.parse_address(&program.template).map_err(|_| {
                    invalid(format!(
                        "program template {:?} is neither a listed file nor a template address",
                        program.template
                    ))
                })?;
                if !changes.templates.contains_key(&address) {
                    return Err(invalid(format!(
                        "program template {:?} is not deployed by this genesis",
                        program.template
                    )));
                }
                address
            }
        };
        let state = hex::decode(&program.state).map_err(|e| invalid(format!("program state: {e}")))?;
        if state.len() > athena_abi::MAX_SPAWN_STATE as usize {
            return Err(invalid(format!("program state is {} bytes, over the limit", state.len())));
        }
        let address = program_address(&template, &state);
        add_supply(program.balance)?;
        let account = Account { balance: program.balance, nonce: 0, template: Some(template) };
        if changes.accounts.insert(address, account).is_some() {
            return Err(invalid(format!(
                "program {} is also a funded account or listed twice",
                probe.display(&address)
            )));
        }
        if !state.is_empty() {
            changes.states.insert(address, state.clone());
        }
        programs.push((address.into_bytes(), template.into_bytes(), state, program.balance));
    }

    let canonical = Canonical {
        version: 1,
        network: genesis.network.clone(),
        name: genesis.name.clone(),
        accounts: changes
            .accounts
            .iter()
            .filter(|(_, a)| a.template.is_none())
            .map(|(address, a)| (address.into_bytes(), a.balance))
            .collect(),
        templates: code_hashes.into_iter().collect(),
        programs: {
            programs.sort();
            programs
        },
    };
    let mut hasher = blake3::Hasher::new_derive_key(GENESIS_ID_CONTEXT);
    hasher.update(&canonical.encode());
    let genesis_id = *hasher.finalize().as_bytes();
    let network = Network::new(&genesis.network, Bytes32::new(genesis_id)).map_err(|e| invalid(e.to_string()))?;
    Ok(LoadedGenesis { network, genesis_id, changes, templates })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::GenesisProgram;

    fn wallet_address(seed: u8) -> Address {
        program_address(
            &Address::new([0, 0, 0, 1, seed, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            &[seed; 32],
        )
    }

    fn genesis() -> Genesis {
        let network = Network::test(Bytes32::ZERO);
        Genesis {
            network: "atest".into(),
            name: "unit".into(),
            accounts: [
                (network.encode_address(&wallet_address(1)), 100),
                (network.encode_address(&wallet_address(2)), 5),
            ]
            .into_iter()
            .collect(),
            templates: Vec::new(),
            programs: Vec::new(),
        }
    }

    #[test]
    fn genesis_id_depends_on_contents_only() {
        let a = build_genesis(&genesis(), &BTreeMap::new()).unwrap();
        assert_eq!(a.changes.accounts.len(), 2);
        assert_eq!(a.network.genesis_id().into_bytes(), a.genesis_id);
        let again = build_genesis(&genesis(), &BTreeMap::new()).unwrap();
        assert_eq!(a.genesis_id, again.genesis_id);
        let mut renamed = genesis();
        renamed.name = "other".into();
        assert_ne!(build_genesis(&renamed, &BTreeMap::new()).unwrap().genesis_id, a.genesis_id);
        let mut richer = genesis();
        *richer.accounts.values_mut().next().unwrap() += 1;
        assert_ne!(build_genesis(&richer, &BTreeMap::new()).unwrap().genesis_id, a.genesis_id);
    }

    #[test]
    fn invalid_genesis_files_are_refused() {
        let mut bad_hrp = genesis();
        bad_hrp.network = "Bad HRP".into();
        assert!(build_genesis(&bad_hrp, &BTreeMap::new()).is_err());
        let mut wrong_network = genesis();
        wrong_network.network = "athena".into();
        assert!(build_genesis(&wrong_network, &BTreeMap::new()).is_err(), "addresses are atest");
        let mut overflow = genesis();
        overflow.accounts.values_mut().for_each(|b| *b = u64::MAX);
        assert!(build_genesis(&overflow, &BTreeMap::new()).is_err());
        let mut missing_code = genesis();
        missing_code.templates.push("nope.elf".into());
        assert!(build_genesis(&missing_code, &BTreeMap::new()).is_err());
        let codes = [("junk.elf".to_string(), b"not an elf".to_vec())].into_iter().collect();
        let mut junk = genesis();
        junk.templates.push("junk.elf".into());
        assert!(build_genesis(&junk, &codes).is_err());
        let mut unknown_template = genesis();
        unknown_template.programs.push(GenesisProgram { template: "x.elf".into(), state: String::new(), balance: 0 });
        assert!(build_genesis(&unknown_template, &BTreeMap::new()).is_err());
        let err = serde_json::from_str::<Genesis>(r#"{"network":"atest","typo":1}"#).unwrap_err();
        assert!(err.to_string().contains("typo"), "{err}");
    }
}
