//! The devnet's data directory: its layout, `--fresh`, the standard
//! templates, the dev keys and the genesis file (docs/devnet.md).
//!
//! A new directory gets the templates' ELF files copied in, fresh dev keys
//! and a genesis that deploys the templates and pre-spawns one funded
//! wallet per dev key. An existing one is resumed as it is: its genesis
//! file, templates and keys never change, so the executor's stored chain
//! keeps matching them.

use athena_guest_builder::{guest_workspace_dir, BuildRequest, GuestToolchain};
use athena_interface::Address;
use athena_node::genesis::{load_genesis, LoadedGenesis};
use athena_node::types::{Genesis, GenesisProgram};
use athena_transaction::program_address;
use athena_wallet::key::Key;
use athena_wallet::session::names_wallet_template;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The templates every devnet deploys at genesis (docs/templates.md), by
/// binary name; each lands in `templates/NAME.elf`.
pub const STANDARD_TEMPLATES: &[&str] = &["wallet", "multisig", "vesting", "vault", "token-mint", "token-wallet"];

/// The address HRP of every devnet (test network addresses, `atest1…`).
pub const NETWORK: &str = "atest";

/// The genesis name (part of the genesis id).
const GENESIS_NAME: &str = "athena devnet";

/// Where everything of one devnet lives (docs/devnet.md, "Data directory").
#[derive(Debug, Clone)]
pub struct Layout {
    /// The data directory.
    pub root: PathBuf,
}

impl Layout {
    /// `genesis.json`.
    pub fn genesis(&self) -> PathBuf {
        self.root.join("genesis.json")
    }
    /// `templates/`: the genesis templates' ELF files.
    pub fn templates(&self) -> PathBuf {
        self.root.join("templates")
    }
    /// `keys/`: the dev keys and the relay's key.
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }
    /// `keys/dev-N.json`.
    pub fn dev_key(&self, n: usize) -> PathBuf {
        self.keys().join(format!("dev-{n}.json"))
    }
    /// `keys/relay.json`: its wallet address receives the relay's fees.
    pub fn relay_key(&self) -> PathBuf {
        self.keys().join("relay.json")
    }
    /// `keys/executor.json`: signs the executor's published results; the
    /// sequencer (and the shadow) authorize its public key.
    pub fn executor_key(&self) -> PathBuf {
        self.keys().join("executor.json")
    }
    /// A process's own directory (`sequencer/`, `executor/`, ...).
    pub fn service(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
    /// `logs/`: `NAME.log`, every line each process printed.
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    /// `devnet.json`: endpoints and process ids while the devnet runs.
    pub fn state(&self) -> PathBuf {
        self.root.join("devnet.json")
    }
}

/// One dev key and its pre-spawned, funded wallet.
#[derive(Debug, Clone)]
pub struct DevAccount {
    /// `dev-N`.
    pub name: String,
    /// The key file.
    pub key: PathBuf,
    /// The wallet address (bech32).
    pub address: String,
}

/// A data directory ready to run.
#[derive(Debug)]
pub struct Prepared {
    /// The loaded genesis (id, network, templates).
    pub genesis: LoadedGenesis,
    /// The dev accounts, `dev-1` first.
    pub accounts: Vec<DevAccount>,
    /// The relay's fee address (bech32).
    pub relay_address: String,
    /// Whether an existing chain is resumed.
    pub resumed: bool,
    /// The executor's public key (hex): the sequencer's and the shadow's
    /// `--executor-key`.
    pub executor_public: String,
}

/// What [`prepare`] needs from the command line.
#[derive(Debug, Clone)]
pub struct SetupOptions {
    /// Delete an existing devnet first.
    pub fresh: bool,
    /// Dev accounts of a new devnet.
    pub accounts: usize,
    /// Coins of each dev account.
    pub balance: u64,
    /// Prebuilt template ELF files instead of building them.
    pub templates: Option<PathBuf>,
}

/// Makes `layout.root` ready: deletes it first with `fresh`, creates a new
/// devnet if there is no genesis file, and loads what is there.
pub fn prepare(layout: &Layout, options: &SetupOptions) -> Result<Prepared, String> {
    if options.fresh {
        remove_devnet(&layout.root)?;
    }
    let resumed = layout.genesis().is_file();
    if !resumed {
        create(layout, options)?;
    }
    let genesis = load_genesis(&layout.genesis()).map_err(|e| format!("{}: {e}", layout.genesis().display()))?;
    let wallet = wallet_template(&genesis)?;
    let network = &genesis.network;
    let address_of = |path: &Path| -> Result<String, String> {
        let key = Key::load(path).map_err(|e| e.to_string())?;
        Ok(network.encode_address(&program_address(&wallet, &key.public_bytes())))
    };
    let mut accounts = Vec::new();
    for n in 1.. {
        let key = layout.dev_key(n);
        if !key.is_file() {
            break;
        }
        accounts.push(DevAccount { name: format!("dev-{n}"), address: address_of(&key)?, key });
    }
    let relay_address = address_of(&layout.relay_key())?;
    // Created here for new devnets and for ones made before results were
    // signed; never replaced, so a resumed sequencer keeps accepting it.
    let executor_key = athena_node::auth::load_or_create_key(&layout.executor_key()).map_err(|e| e.to_string())?;
    let executor_public = hex::encode(executor_key.public_bytes());
    Ok(Prepared { genesis, accounts, relay_address, resumed, executor_public })
}

/// The wallet template of a loaded genesis: the entry whose file stem is
/// `wallet` (the rule the wallet applies to `GET /v1/status`).
pub fn wallet_template(genesis: &LoadedGenesis) -> Result<Address, String> {
    genesis
        .templates
        .iter()
        .find(|(name, _)| names_wallet_template(name))
        .map(|(_, address)| *address)
        .ok_or_else(|| "the devnet's genesis deploys no wallet template (templates/wallet.elf)".to_owned())
}

/// Deletes a devnet data directory, refusing anything that does not look
/// like one (so `--fresh --data-dir ~` cannot wipe a home directory).
pub fn remove_devnet(root: &Path) -> Result<(), String> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {}: {e}", root.display())),
    };
    let empty = entries.count() == 0;
    let is_devnet = root.join("genesis.json").is_file() && root.join("keys").is_dir();
    if !empty && !is_devnet {
        return Err(format!(
            "--fresh: {} is not empty and not a devnet data directory (no genesis.json and keys/); not deleting it",
            root.display()
        ));
    }
    std::fs::remove_dir_all(root).map_err(|e| format!("cannot delete {}: {e}", root.display()))
}

/// Writes a new devnet: templates, keys, genesis (the genesis file last, so
/// an interrupted setup is redone on the next start).
fn create(layout: &Layout, options: &SetupOptions) -> Result<(), String> {
    if !(1..=1000).contains(&options.accounts) {
        return Err(format!("--accounts {}: between 1 and 1000", options.accounts));
    }
    let codes = match &options.templates {
        Some(dir) => read_templates(dir)?,
        None => build_templates()?,
    };
    let io = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
    std::fs::create_dir_all(layout.templates()).map_err(|e| io(&layout.templates(), e))?;
    let mut names = Vec::new();
    for (name, code) in &codes {
        let file = format!("templates/{name}.elf");
        let path = layout.root.join(&file);
        std::fs::write(&path, code).map_err(|e| io(&path, e))?;
        names.push(file);
    }
    if !codes.contains_key("wallet") {
        return Err("no wallet template".into());
    }

    let mut programs = Vec::new();
    for n in 1..=options.accounts {
        let key = fresh_key(&layout.dev_key(n))?;
        programs.push(GenesisProgram {
            template: "templates/wallet.elf".into(),
            state: hex::encode(key.public_bytes()),
            balance: options.balance,
        });
    }
    fresh_key(&layout.relay_key())?;
    // Fail early on a genesis the executor would refuse (e.g. the supply).
    let genesis = Genesis {
        network: NETWORK.into(),
        name: GENESIS_NAME.into(),
        accounts: BTreeMap::new(),
        templates: names,
        programs,
    };
    athena_node::genesis::build_genesis(
        &genesis,
        &codes.iter().map(|(name, code)| (format!("templates/{name}.elf"), code.clone())).collect(),
    )
    .map_err(|e| format!("the devnet genesis: {e}"))?;
    let mut text = serde_json::to_string_pretty(&genesis).map_err(|e| e.to_string())?;
    text.push('\n');
    let path = layout.genesis();
    let tmp = layout.root.join("genesis.json.tmp");
    std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
    Ok(())
}

/// A new key at `path`, replacing a leftover of an interrupted setup.
fn fresh_key(path: &Path) -> Result<Key, String> {
    let key = Key::generate();
    key.save(path, true).map_err(|e| e.to_string())?;
    Ok(key)
}

/// Reads `DIR/NAME.elf` (or `DIR/NAME`) for each standard template.
fn read_templates(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut codes = BTreeMap::new();
    for name in STANDARD_TEMPLATES {
        let candidates = [dir.join(format!("{name}.elf")), dir.join(name)];
        let path = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
            format!(
                "--templates {}: no {name}.elf (or {name}) in it; the standard templates are {STANDARD_TEMPLATES:?}",
                dir.display()
            )
        })?;
        let code = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        codes.insert((*name).to_owned(), code);
    }
    Ok(codes)
}

/// Builds the standard templates from this repository's guest workspace
/// (cargo's progress on stderr; quick when they are up to date).
fn build_templates() -> Result<BTreeMap<String, Vec<u8>>, String> {
    let workspace = guest_workspace_dir();
    if !workspace.join("Cargo.toml").is_file() {
        return Err(format!(
            "the guest workspace is not at {} (this athena was built elsewhere): pass --templates DIR with prebuilt \
             {STANDARD_TEMPLATES:?} ELF files",
            workspace.display()
        ));
    }
    let toolchain = GuestToolchain::detect()
        .map_err(|e| format!("{e} (scripts/install-guest-toolchain.sh installs one, or pass --templates DIR)"))?;
    println!("[devnet] building the standard templates ({}) with {toolchain}", STANDARD_TEMPLATES.join(", "));
    println!("[devnet] (the first build compiles core and alloc for RISC-V and takes a few minutes)");
    let mut request = BuildRequest::new(&workspace).echo(true);
    for name in STANDARD_TEMPLATES {
        request = request.package(*name);
    }
    let output = toolchain.build(&request).map_err(|e| format!("building the templates: {e}"))?;
    let mut codes = BTreeMap::new();
    for name in STANDARD_TEMPLATES {
        let path = output.require(name).map_err(|e| e.to_string())?;
        let code = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("[devnet]   {name:<13} {:>6} bytes  {}", code.len(), path.display());
        codes.insert((*name).to_owned(), code);
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loadable stand-ins for the standard templates, all different.
    fn fake_templates(dir: &Path) {
        use athena_test_elf::{asm, ElfBuilder};
        std::fs::create_dir_all(dir).unwrap();
        for (i, name) in (0..).zip(STANDARD_TEMPLATES) {
            let elf = ElfBuilder::new(0x1_0000).text(0x1_0000, &[asm::addi(asm::A0, 0, i)]).build();
            std::fs::write(dir.join(format!("{name}.elf")), elf).unwrap();
        }
    }

    #[test]
    fn a_new_devnet_is_written_and_resumed_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        fake_templates(&dir.path().join("elfs"));
        let layout = Layout { root: dir.path().join("devnet") };
        let options = SetupOptions { fresh: false, accounts: 3, balance: 77, templates: Some(dir.path().join("elfs")) };
        let new = prepare(&layout, &options).unwrap();
        assert!(!new.resumed);
        assert_eq!(new.accounts.len(), 3);
        assert_eq!(new.genesis.templates.len(), STANDARD_TEMPLATES.len());
        assert!(new.genesis.templates.contains_key("templates/wallet.elf"));
        // Each dev wallet exists at genesis, spawned from the wallet
        // template with its key as state, holding the balance.
        let wallet = wallet_template(&new.genesis).unwrap();
        for account in &new.accounts {
            let key = Key::load(&account.key).unwrap();
            let address = program_address(&wallet, &key.public_bytes());
            assert_eq!(account.address, new.genesis.network.encode_address(&address));
            let record = &new.genesis.changes.accounts[&address];
            assert_eq!((record.balance, record.template), (77, Some(wallet)));
        }
        assert!(new.relay_address.starts_with("atest1"));

        let again = prepare(&layout, &SetupOptions { accounts: 9, ..options.clone() }).unwrap();
        assert!(again.resumed);
        assert_eq!(again.genesis.genesis_id, new.genesis.genesis_id);
        assert_eq!(again.accounts.len(), 3);
        assert_eq!(again.relay_address, new.relay_address);

        let fresh = prepare(&layout, &SetupOptions { fresh: true, ..options.clone() }).unwrap();
        assert!(!fresh.resumed);
        assert_ne!(fresh.genesis.genesis_id, new.genesis.genesis_id, "new keys, new network");

        std::fs::remove_file(dir.path().join("elfs/vault.elf")).unwrap();
        let missing = prepare(&layout, &SetupOptions { fresh: true, ..options.clone() }).unwrap_err();
        assert!(missing.contains("no vault.elf"), "{missing}");
        let none = SetupOptions { fresh: true, accounts: 0, ..options };
        assert!(prepare(&layout, &none).unwrap_err().contains("--accounts"));
    }

    #[test]
    fn fresh_refuses_directories_that_are_not_devnets() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("devnet");
        remove_devnet(&root).expect("a missing directory is fine");
        std::fs::create_dir_all(&root).unwrap();
        remove_devnet(&root).expect("an empty directory is fine");
        assert!(!root.exists());
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("precious.txt"), "x").unwrap();
        let err = remove_devnet(&root).unwrap_err();
        assert!(err.contains("not a devnet data directory"), "{err}");
        assert!(root.join("precious.txt").is_file());
        std::fs::write(root.join("genesis.json"), "{}").unwrap();
        std::fs::create_dir_all(root.join("keys")).unwrap();
        remove_devnet(&root).unwrap();
        assert!(!root.exists());
    }
}
