//! Writes the seed transactions into corpus/apply and prints how each one
//! ends on the genesis state.
use athena_runtime::tx::{apply_transaction, TxConfig};

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/apply");
    std::fs::create_dir_all(&dir).unwrap();
    let genesis = athena_runtime_fuzz::Genesis::new();
    let seeds = genesis.seeds();
    for (name, bytes) in &seeds {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
        let receipt = apply_transaction(&genesis.state, &genesis.block, bytes, &TxConfig::default()).unwrap();
        println!("{name}: {:?}, gas {}", receipt.status, receipt.gas_used);
    }
    eprintln!("wrote {} seeds to {}", seeds.len(), dir.display());
}
