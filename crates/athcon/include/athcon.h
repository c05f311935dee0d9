/*
 * athcon.h — the Athena connector: the C ABI between a VM that executes
 * Athena programs and a host (a blockchain node) that owns the state.
 *
 * Plain C99. The normative description of every rule summarised in these
 * comments (ownership, threading, null pointers, loader rules, options,
 * status codes) is docs/athcon.md in the Athena repository.
 *
 * Conventions used throughout:
 *   - Every integer that crosses the ABI has a fixed width. The enums below
 *     only NAME values; struct fields and parameters that carry them are
 *     int32_t / uint32_t, so the layout never depends on how a compiler
 *     sizes an enum (and Go/cgo sees plain integers).
 *   - Pointers are borrowed for the duration of the call that receives them
 *     unless a comment says otherwise. "nullable" marks the only pointers
 *     that may be NULL; every other pointer must be valid.
 *   - (data, size) pairs: data may be NULL only when size is 0.
 */
#ifndef ATHCON_H
#define ATHCON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ABI version. Incremented on every incompatible change (layout of any
 * struct, signature or meaning of any function, renumbered value). A host
 * must refuse a VM whose athcon_vm.abi_version differs from the version it
 * was compiled against. Adding a new enum VALUE (status code, revision,
 * capability bit, option) is compatible and does not bump it.
 */
#define ATHCON_ABI_VERSION 2 /* 2: get_state added; spawn is a call of kind ATHCON_SPAWN */

/* Largest msg->input_size a VM accepts (1 MiB); larger → ATHCON_REJECTED. */
#define ATHCON_MAX_INPUT_SIZE (1024u * 1024u)

/* Largest program state (the state blob a program was spawned with, 64 KiB);
 * the capacity the VM passes to athcon_host_interface.get_state. */
#define ATHCON_MAX_STATE_SIZE (64u * 1024u)

/* An account address: 24 opaque bytes. */
typedef struct athcon_address {
    uint8_t bytes[24];
} athcon_address;

/* A 32-byte word: storage keys and values, hashes, log topics, chain id. */
typedef struct athcon_bytes32 {
    uint8_t bytes[32];
} athcon_bytes32;

/*
 * How execution ended. Positive values are consensus-visible outcomes of the
 * guest program; negative values are internal errors of the VM or host that
 * say nothing about the guest. Only ATHCON_SUCCESS keeps a frame's effects.
 * Never renumbered. See docs/athcon.md for gas_left per status.
 */
enum athcon_status_code {
    ATHCON_SUCCESS = 0,
    ATHCON_FAILURE = 1,
    ATHCON_REVERT = 2,
    ATHCON_OUT_OF_GAS = 3,
    ATHCON_INVALID_INSTRUCTION = 4,
    ATHCON_INVALID_MEMORY_ACCESS = 5,
    ATHCON_CALL_DEPTH_EXCEEDED = 6,
    ATHCON_INSUFFICIENT_BALANCE = 7,
    ATHCON_INSUFFICIENT_INPUT = 8,
    ATHCON_INVALID_SYSCALL_ARGUMENT = 9,
    ATHCON_PRECOMPILE_FAILURE = 10,
    ATHCON_INTERNAL_ERROR = -1,
    ATHCON_REJECTED = -2,
    ATHCON_OUT_OF_MEMORY = -3
};

/* The protocol rule set a message runs under; chosen by the host. */
enum athcon_revision {
    ATHCON_FRONTIER = 0,
    ATHCON_LATEST_REVISION = ATHCON_FRONTIER
};

/* What a message asks for (athcon_message.kind). Never renumbered. */
enum athcon_call_kind {
    ATHCON_CALL = 0,   /* run the recipient's code */
    ATHCON_SPAWN = 1,  /* create a program: recipient = template, input = its state (see athcon_call_fn) */
    ATHCON_DEPLOY = 2  /* store new template code */
};

/* How athcon_host_interface.set_storage changed a slot (drives gas). */
enum athcon_storage_status {
    ATHCON_STORAGE_UNCHANGED = 0, /* new == current (incl. zero → zero) */
    ATHCON_STORAGE_ADDED = 1,     /* zero → non-zero */
    ATHCON_STORAGE_MODIFIED = 2,  /* non-zero → other non-zero */
    ATHCON_STORAGE_DELETED = 3    /* non-zero → zero */
};

/* Capability bits reported by athcon_vm.get_capabilities. */
enum athcon_capabilities {
    ATHCON_CAPABILITY_RV32E = 1u << 0,       /* runs RV32E(M) programs */
    ATHCON_CAPABILITY_RV32I = 1u << 1,       /* runs RV32I(M) programs */
    ATHCON_CAPABILITY_PRECOMPILES = 1u << 2  /* provides precompiles */
};

/* Result of athcon_vm.set_option. */
enum athcon_set_option_result {
    ATHCON_SET_OPTION_SUCCESS = 0,
    ATHCON_SET_OPTION_INVALID_NAME = 1,  /* no such option */
    ATHCON_SET_OPTION_INVALID_VALUE = 2, /* known option, value not accepted */
    ATHCON_SET_OPTION_ERROR = 3          /* anything else (e.g. NULL name) */
};

/*
 * A request to execute one frame. Passed by pointer, borrowed: the receiver
 * copies what it keeps before returning.
 */
struct athcon_message {
    uint32_t kind;                  /* enum athcon_call_kind */
    uint32_t depth;                 /* 0 for the top-level frame, +1 per nested call */
    uint64_t gas;                   /* gas available to the frame */
    athcon_address recipient;       /* account whose code runs / storage is used */
    athcon_address sender;          /* immediate caller */
    athcon_address sender_template; /* template of the sender; all-zero = none */
    const uint8_t* input_data;      /* nullable iff input_size == 0 */
    size_t input_size;
    uint64_t value;                 /* coins moved sender → recipient before running */
};

/* Transaction and block context; constant for one transaction. */
struct athcon_tx_context {
    uint64_t gas_price;
    athcon_address origin;          /* principal that originated the transaction */
    uint64_t block_height;
    uint64_t block_timestamp;       /* seconds since the Unix epoch */
    uint64_t block_gas_limit;
    athcon_bytes32 chain_id;
};

struct athcon_result;

/*
 * Frees whatever the creator of a result allocated for it. Called exactly
 * once by the receiver of the result, when it no longer needs output_data.
 * After it returns the result must not be used.
 */
typedef void (*athcon_release_result_fn)(const struct athcon_result* result);

/*
 * Creator-private storage inside a result (e.g. an allocation's capacity, a
 * handle). Only the creator's release function reads it; receivers must
 * neither read nor change it, but must pass the result to release unchanged.
 */
union athcon_result_private {
    void* pointer;
    uint64_t word;
    uint8_t bytes[32];
};

/*
 * The outcome of executing a message. Returned by value; the output buffer
 * belongs to the result's creator until release is called.
 */
struct athcon_result {
    int32_t status_code;        /* enum athcon_status_code */
    uint64_t gas_left;          /* see docs/athcon.md: meaningful for some statuses */
    const uint8_t* output_data; /* nullable iff output_size == 0 */
    size_t output_size;
    athcon_release_result_fn release; /* nullable: nothing to free */
    union athcon_result_private private_data;
};

/* Opaque to the VM: whatever the host wants passed back to its callbacks. */
struct athcon_host_context;

/* Host callbacks. Every pointer argument is borrowed for the call. */
typedef bool (*athcon_account_exists_fn)(struct athcon_host_context* context, const athcon_address* address);

typedef athcon_bytes32 (*athcon_get_storage_fn)(struct athcon_host_context* context, const athcon_address* address,
                                                const athcon_bytes32* key);

/* Returns an enum athcon_storage_status, classified against the current value. */
typedef uint32_t (*athcon_set_storage_fn)(struct athcon_host_context* context, const athcon_address* address,
                                          const athcon_bytes32* key, const athcon_bytes32* value);

typedef uint64_t (*athcon_get_balance_fn)(struct athcon_host_context* context, const athcon_address* address);

/*
 * Run a nested frame, under one checkpoint the host reverts unless the
 * result is ATHCON_SUCCESS. The VM has applied its depth limit and priced
 * the forwarded gas (msg->gas). The VM takes ownership of the returned
 * result and calls its release function.
 *
 * msg->kind == ATHCON_CALL: balance check (ATHCON_INSUFFICIENT_BALANCE with
 * all gas back if the sender cannot pay msg->value), value transfer,
 * execution of the recipient's code (usually by re-entering
 * athcon_vm.execute), revert of everything on non-success.
 *
 * msg->kind == ATHCON_SPAWN: create a program. msg->recipient is the
 * TEMPLATE, msg->input its immutable state (at most ATHCON_MAX_STATE_SIZE
 * bytes). The host fails with ATHCON_FAILURE if the template does not exist
 * or the derived program address (a deterministic function of template and
 * state) already has a template; otherwise it creates the account (template
 * and state, keeping any balance it had), transfers msg->value as for a
 * call, and runs the template's code for the new program with a message of
 * kind ATHCON_SPAWN whose recipient is the new address and whose input is
 * the 4 bytes of selector("spawn") = 3f 80 0a c5. If that run fails the
 * creation is reverted with everything else and its result returned;
 * on success the result's output must be exactly the 24 address bytes
 * (anything else makes the spawning frame end with ATHCON_INTERNAL_ERROR).
 */
typedef struct athcon_result (*athcon_call_fn)(struct athcon_host_context* context, const struct athcon_message* msg);

/*
 * The immutable state `address` was spawned with (empty for accounts that
 * were not spawned). Writes min(length, out_capacity) bytes to `out` (which
 * may be NULL iff out_capacity is 0) and returns the full length. The VM
 * asks at most once per frame, with out_capacity = ATHCON_MAX_STATE_SIZE; a
 * length above ATHCON_MAX_STATE_SIZE is a host bug (ATHCON_INTERNAL_ERROR).
 */
typedef size_t (*athcon_get_state_fn)(struct athcon_host_context* context, const athcon_address* address,
                                      uint8_t* out, size_t out_capacity);

/*
 * Store new template code. Returns ATHCON_SUCCESS and writes the template's
 * address to *address_out, or another status code (address_out untouched).
 */
typedef int32_t (*athcon_deploy_fn)(struct athcon_host_context* context, const uint8_t* code, size_t code_size,
                                    athcon_address* address_out);

typedef struct athcon_tx_context (*athcon_get_tx_context_fn)(struct athcon_host_context* context);

/* All-zero when the hash is not available. */
typedef athcon_bytes32 (*athcon_get_block_hash_fn)(struct athcon_host_context* context, uint64_t height);

/* topics (nullable iff topics_count == 0) and data are borrowed. */
typedef void (*athcon_emit_log_fn)(struct athcon_host_context* context, const athcon_address* address,
                                   const athcon_bytes32* topics, size_t topics_count, const uint8_t* data,
                                   size_t data_size);

/* The host's function table. Every member must be non-NULL. */
struct athcon_host_interface {
    athcon_account_exists_fn account_exists;
    athcon_get_storage_fn get_storage;
    athcon_set_storage_fn set_storage;
    athcon_get_balance_fn get_balance;
    athcon_call_fn call;
    athcon_get_state_fn get_state;
    athcon_deploy_fn deploy;
    athcon_get_tx_context_fn get_tx_context;
    athcon_get_block_hash_fn get_block_hash;
    athcon_emit_log_fn emit_log;
};

struct athcon_vm;

/* Destroys the VM instance. No call on the instance may run or follow. */
typedef void (*athcon_destroy_fn)(struct athcon_vm* vm);

/*
 * Execute `msg` against `code` (a RISC-V ELF image). Never fails to return a
 * result: invalid requests come back as a status code (docs/athcon.md).
 * The caller owns the result and must call result.release if non-NULL.
 * Safe to call concurrently on one instance, and re-entrantly from host
 * callbacks.
 */
typedef struct athcon_result (*athcon_execute_fn)(struct athcon_vm* vm, const struct athcon_host_interface* host,
                                                  struct athcon_host_context* context, uint32_t revision,
                                                  const struct athcon_message* msg, const uint8_t* code,
                                                  size_t code_size);

/* Bit set of enum athcon_capabilities. */
typedef uint32_t (*athcon_get_capabilities_fn)(struct athcon_vm* vm);

/* Configure the instance; returns enum athcon_set_option_result. */
typedef int32_t (*athcon_set_option_fn)(struct athcon_vm* vm, const char* name, const char* value);

/*
 * A VM instance. Created by an athcon_create* function; the fields are
 * read-only for the host. The implementation may place private data after
 * this struct, so hosts never copy or allocate it themselves.
 */
struct athcon_vm {
    uint32_t abi_version;     /* must equal ATHCON_ABI_VERSION */
    const char* name;         /* non-empty, NUL-terminated, static */
    const char* version;      /* non-empty, NUL-terminated, static */
    athcon_destroy_fn destroy;
    athcon_execute_fn execute;
    athcon_get_capabilities_fn get_capabilities;
    athcon_set_option_fn set_option; /* nullable: the VM has no options */
};

/*
 * Entry points of the Athena VM library. Loader rule (docs/athcon.md): from
 * the library file's base name drop a leading "lib", cut at the first '.',
 * turn every '-' into '_' giving NAME ("libathena-vm.so.1" → "athena_vm");
 * look up "athcon_create_NAME", and if absent the generic "athcon_create".
 * Both return a new instance (never shared between callers), or NULL if it
 * cannot be created.
 */
struct athcon_vm* athcon_create_athenavm(void);
struct athcon_vm* athcon_create(void);

#ifdef __cplusplus
}
#endif

#endif /* ATHCON_H */
