#define _POSIX_C_SOURCE 200809L
#include "bridge.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "_cgo_export.h"

#define H(ctx) ((uintptr_t)(void*)(ctx))

static bool cb_account_exists(struct athcon_host_context* ctx, const athcon_address* a) {
    return goAccountExists(H(ctx), (athcon_address*)a) != 0;
}
static athcon_bytes32 cb_get_storage(struct athcon_host_context* ctx, const athcon_address* a, const athcon_bytes32* k) {
    athcon_bytes32 out;
    goGetStorage(H(ctx), (athcon_address*)a, (athcon_bytes32*)k, &out);
    return out;
}
static uint32_t cb_set_storage(struct athcon_host_context* ctx, const athcon_address* a, const athcon_bytes32* k,
                               const athcon_bytes32* v) {
    return goSetStorage(H(ctx), (athcon_address*)a, (athcon_bytes32*)k, (athcon_bytes32*)v);
}
static uint64_t cb_get_balance(struct athcon_host_context* ctx, const athcon_address* a) {
    return goGetBalance(H(ctx), (athcon_address*)a);
}
static struct athcon_result cb_call(struct athcon_host_context* ctx, const struct athcon_message* msg) {
    struct athcon_result r;
    goCall(H(ctx), (struct athcon_message*)msg, &r);
    return r;
}
static size_t cb_get_state(struct athcon_host_context* ctx, const athcon_address* a, uint8_t* out, size_t cap) {
    return goGetState(H(ctx), (athcon_address*)a, out, cap);
}
static int32_t cb_deploy(struct athcon_host_context* ctx, const uint8_t* code, size_t n, athcon_address* out) {
    return goDeploy(H(ctx), (uint8_t*)code, n, out);
}
static struct athcon_tx_context cb_get_tx_context(struct athcon_host_context* ctx) {
    struct athcon_tx_context t;
    goGetTxContext(H(ctx), &t);
    return t;
}
static athcon_bytes32 cb_get_block_hash(struct athcon_host_context* ctx, uint64_t height) {
    athcon_bytes32 out;
    goGetBlockHash(H(ctx), height, &out);
    return out;
}
static void cb_emit_log(struct athcon_host_context* ctx, const athcon_address* a, const athcon_bytes32* topics,
                        size_t n_topics, const uint8_t* data, size_t size) {
    goEmitLog(H(ctx), (athcon_address*)a, (athcon_bytes32*)topics, n_topics, (uint8_t*)data, size);
}

static const struct athcon_host_interface g_iface = {
    cb_account_exists, cb_get_storage, cb_set_storage,    cb_get_balance,    cb_call,
    cb_get_state,      cb_deploy,      cb_get_tx_context, cb_get_block_hash, cb_emit_log,
};

struct athcon_result bridge_execute(struct athcon_vm* vm, uintptr_t host, int null_host, uint32_t revision,
                                    const struct athcon_message* msg, const uint8_t* code, size_t code_size) {
    return vm->execute(vm, null_host ? NULL : &g_iface,
                       null_host ? NULL : (struct athcon_host_context*)(void*)host, revision, msg, code, code_size);
}

int32_t bridge_set_option(struct athcon_vm* vm, const char* name, const char* value) {
    if (!vm->set_option) return ATHCON_SET_OPTION_INVALID_NAME;
    return vm->set_option(vm, name, value);
}

uint32_t bridge_capabilities(struct athcon_vm* vm) { return vm->get_capabilities(vm); }

void bridge_release(struct athcon_result* result) {
    if (result->release) result->release(result);
}

static void host_release(const struct athcon_result* r) {
    free((void*)r->output_data);
    goHostResultReleased((uintptr_t)r->private_data.word);
}

struct athcon_result bridge_host_result(uintptr_t host, int32_t status, uint64_t gas_left, const uint8_t* data,
                                        size_t size) {
    struct athcon_result r;
    memset(&r, 0, sizeof r);
    r.status_code = status;
    r.gas_left = gas_left;
    if (size) {
        uint8_t* copy = malloc(size);
        memcpy(copy, data, size);
        r.output_data = copy;
        r.output_size = size;
    }
    r.release = host_release;
    r.private_data.word = host;
    return r;
}

typedef struct athcon_vm* (*create_fn)(void);

struct athcon_vm* bridge_load(const char* path, void** handle_out, char* symbol, size_t symbol_size, char* err,
                              size_t err_size) {
    void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, err_size, "dlopen: %s", dlerror());
        return NULL;
    }
    /* Loader rule: base name, drop "lib", cut at the first '.', '-' → '_'. */
    const char* base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strncmp(base, "lib", 3) == 0) base += 3;
    size_t n = (size_t)snprintf(symbol, symbol_size, "athcon_create_");
    for (const char* p = base; *p && *p != '.' && n + 1 < symbol_size; p++) symbol[n++] = (*p == '-') ? '_' : *p;
    symbol[n] = 0;
    void* f = dlsym(lib, symbol);
    if (!f) {
        snprintf(symbol, symbol_size, "athcon_create");
        f = dlsym(lib, symbol);
    }
    if (!f) {
        snprintf(err, err_size, "no athcon_create function");
        dlclose(lib);
        return NULL;
    }
    create_fn create;
    memcpy(&create, &f, sizeof create);
    struct athcon_vm* vm = create();
    if (!vm) {
        snprintf(err, err_size, "create returned NULL");
        dlclose(lib);
        return NULL;
    }
    if (vm->abi_version != ATHCON_ABI_VERSION) {
        snprintf(err, err_size, "ABI version %u, expected %u", vm->abi_version, ATHCON_ABI_VERSION);
        if (vm->destroy) vm->destroy(vm);
        dlclose(lib);
        return NULL;
    }
    *handle_out = lib;
    return vm;
}

void bridge_unload(struct athcon_vm* vm, void* handle) {
    vm->destroy(vm);
    dlclose(handle);
}
