//! The one place where the C ABI hands a frame to `athena-engine`.

use athena_engine::EngineConfig;
use athena_interface::{ExecutionResult, Host, Message, Revision};

/// Which interpreter loop runs the guest (the `engine` option). Both give
/// identical results; only speed differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EngineChoice {
    /// Pre-decoded, block-metered (default).
    #[default]
    Fast,
    /// One instruction at a time.
    Reference,
}

/// Runs one frame. With default options this is exactly
/// `athena_engine::execute`; otherwise the options become an
/// [`EngineConfig`] for `athena_engine::execute_with`.
pub(crate) fn execute(
    host: &mut dyn Host,
    revision: Revision,
    message: &Message,
    code: &[u8],
    options: &crate::Options,
) -> ExecutionResult {
    if *options == crate::Options::default() {
        return athena_engine::execute(host, revision, message, code);
    }
    let config = EngineConfig {
        max_call_depth: options.max_call_depth,
        vm_engine: match options.engine {
            EngineChoice::Fast => athena_vm::Engine::Fast,
            EngineChoice::Reference => athena_vm::Engine::Reference,
        },
        ..EngineConfig::default()
    };
    athena_engine::execute_with(&config, host, revision, message, code)
}
