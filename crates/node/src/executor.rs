//! Starting an executor or a shadow executor: open (or create from
//! genesis) the chain, serve the query API, follow the base layer.

use crate::api::{self, ApiState};
use crate::base_layer::BaseLayer;
use crate::chain::Chain;
use crate::exec::{ExecConfig, Fault};
use crate::executor_keys::LivePolicy;
use crate::follower::{follow, FollowConfig, Role};
use crate::genesis::LoadedGenesis;
use crate::http::{NodeError, NodeHandle};
use crate::types::ShadowStatus;
use ed25519_dalek::SigningKey;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How an executor or shadow runs.
#[derive(Clone)]
pub struct ExecutorConfig {
    /// Where `state.redb` lives; `None` keeps the chain in memory (tests;
    /// needs `genesis`).
    pub data_dir: Option<PathBuf>,
    /// The genesis: required for a new data directory, checked against an
    /// existing one.
    pub genesis: Option<LoadedGenesis>,
    /// Address of the query API.
    pub listen: SocketAddr,
    /// The base layer to follow (usually an [`crate::base_layer::HttpBaseLayer`]).
    pub base: Arc<dyn BaseLayer>,
    /// Executor or shadow.
    pub role: Role,
    /// How often to poll the base layer.
    pub poll: Duration,
    /// Injected fault (tests of the shadow only).
    pub fault: Option<Fault>,
    /// Turn SIGINT/SIGTERM into [`crate::http::NodeEvent::Signal`].
    pub signals: bool,
    /// The executor's signing key for published results (`None`: publish
    /// unsigned; a shadow publishes nothing and needs none).
    pub signer: Option<SigningKey>,
    /// Which results served by the base layer are authentic (the executor's
    /// own key for an executor; the executor's key for a shadow); a keys
    /// file is re-read while the node runs ([`FollowConfig::results`]).
    pub results: LivePolicy,
    /// Keep receipts and proofs for the last committed height and this
    /// many before it, pruning older ones after every block
    /// (`--keep-heights`); `None` keeps everything.
    pub keep_heights: Option<u64>,
}

/// A started executor: its handle, chain and (for a shadow) verdict.
pub struct Executor {
    /// The server and follower threads.
    pub handle: NodeHandle,
    /// The chain (also read by the API).
    pub chain: Arc<Chain>,
    /// The shadow's verdict (`ok` stays `false` until a block verifies).
    pub shadow: Arc<Mutex<ShadowStatus>>,
}

/// Opens the chain and starts the query API and the follower.
pub fn start_executor(config: ExecutorConfig) -> Result<Executor, NodeError> {
    let chain = match &config.data_dir {
        Some(dir) => Chain::open(dir, config.genesis.as_ref())?,
        None => {
            let genesis = config.genesis.as_ref().ok_or_else(|| NodeError::Config("a genesis is needed".into()))?;
            Chain::in_memory(genesis)?
        }
    };
    let chain = Arc::new(chain.with_keep_heights(config.keep_heights));
    let (height, root) = match chain.store().last_committed().map_err(crate::chain::ChainError::from)? {
        Some(b) => (b.height, b.state_root.to_string()),
        None => (0, String::new()),
    };
    let role_name = match config.role {
        Role::Executor => "executor",
        Role::Shadow { .. } => "shadow",
    };
    tracing::info!(
        "{role_name}: network {} genesis {}, at block {height}, root {root}",
        chain.network().hrp(),
        hex::encode(chain.genesis_id())
    );
    config.results.log();
    let shadow = Arc::new(Mutex::new(ShadowStatus::default()));
    let exec = ExecConfig { fault: None, ..ExecConfig::default() };
    let state = ApiState {
        chain: Arc::clone(&chain),
        role: role_name,
        exec,
        shadow: matches!(config.role, Role::Shadow { .. }).then(|| Arc::clone(&shadow)),
    };
    let follow_config = FollowConfig {
        role: config.role.clone(),
        exec: ExecConfig { fault: config.fault, ..exec },
        poll: config.poll,
        signer: config.signer.clone(),
        results: config.results.clone(),
    };
    let worker_chain = Arc::clone(&chain);
    let worker_shadow = Arc::clone(&shadow);
    let base = Arc::clone(&config.base);
    let handle = NodeHandle::start(config.listen, api::router(state), config.signals, move |stop| {
        let result = follow(&worker_chain, base.as_ref(), &follow_config, &worker_shadow, stop);
        if let Err(e) = &result {
            tracing::error!("{role_name} stopped: {e}");
        }
        result
    })?;
    Ok(Executor { handle, chain, shadow })
}
