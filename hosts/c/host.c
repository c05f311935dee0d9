/*
 * A host written in C for the Athena VM, through athcon.h only.
 *
 *   host LIBATHCON STORAGE_RW_ELF FIB_CALL_ELF [MAX_FIB [FACTORY_ELF ECHO_ELF REVERTER_ELF]]
 *   (env ATHCON_HOST_KEEP_LIBRARY=1: do not dlclose at the end)
 *
 * dlopens the VM library, finds its create function by the loader rule of
 * docs/athcon.md, and runs scenarios against it with its own state tables
 * (accounts with code, balance and program state, storage, logs) and its
 * own revert journal (snapshots). Nested calls re-enter vm->execute, and
 * so do spawns (call messages of kind ATHCON_SPAWN). The three optional
 * programs (built by crates/athcon/tests) drive the spawn scenario. Prints one
 * "ok - ..." / "not ok - ..." line per check and a final
 * "c-host summary: N ok, M not ok" line; exits 0 only if nothing failed.
 */
#define _POSIX_C_SOURCE 200809L
#include "athcon.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- checks ---------- */

static int g_passed, g_failed;
static pthread_mutex_t g_report_lock = PTHREAD_MUTEX_INITIALIZER;

static void check(int ok, const char* fmt, ...) {
    va_list ap;
    pthread_mutex_lock(&g_report_lock);
    printf("%s - ", ok ? "ok" : "not ok");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (ok) g_passed++; else g_failed++;
    pthread_mutex_unlock(&g_report_lock);
}

/* ---------- host state ---------- */

#define MAX_ACCOUNTS 32
#define MAX_SLOTS 256

struct account {
    athcon_address address;
    uint64_t balance;
    uint8_t* code; /* owned, may be NULL */
    size_t code_size;
    int spawned;    /* created by a spawn: has a template */
    uint8_t* state; /* owned, may be NULL: the immutable program state */
    size_t state_size;
};

struct slot {
    athcon_address address;
    athcon_bytes32 key;
    athcon_bytes32 value;
};

/* Everything a frame can change; copied whole as a revert snapshot. */
struct state {
    struct account accounts[MAX_ACCOUNTS];
    size_t n_accounts;
    struct slot slots[MAX_SLOTS];
    size_t n_slots;
    size_t n_logs;
    uint32_t nonce;
};

struct host {
    struct state st;
    struct athcon_vm* vm;
    const struct athcon_host_interface* iface;
    /* statistics */
    long calls, max_depth_seen, storage_added, spawns, state_fetches;
    long host_results_alloc, host_results_freed; /* results WE created */
    long vm_results, vm_results_released;        /* results the VM created */
};

static int addr_eq(const athcon_address* a, const athcon_address* b) { return memcmp(a->bytes, b->bytes, 24) == 0; }
static int is_zero32(const athcon_bytes32* v) {
    for (int i = 0; i < 32; i++)
        if (v->bytes[i]) return 0;
    return 1;
}

static struct account* find_account(struct state* st, const athcon_address* a) {
    for (size_t i = 0; i < st->n_accounts; i++)
        if (addr_eq(&st->accounts[i].address, a)) return &st->accounts[i];
    return NULL;
}

static struct account* add_account(struct state* st, athcon_address a, uint64_t balance, const uint8_t* code,
                                   size_t code_size) {
    if (st->n_accounts == MAX_ACCOUNTS) return NULL;
    struct account* acc = &st->accounts[st->n_accounts++];
    acc->address = a;
    acc->balance = balance;
    acc->code = NULL;
    acc->code_size = code_size;
    acc->spawned = 0;
    acc->state = NULL;
    acc->state_size = 0;
    if (code_size) {
        acc->code = malloc(code_size);
        memcpy(acc->code, code, code_size);
    }
    return acc;
}

static void free_account(struct account* acc) {
    free(acc->code);
    free(acc->state);
}

/* Snapshots share code and state buffers with the live state: both are
 * immutable once stored, and accounts are only ever appended; a restore
 * frees the buffers of accounts created after the snapshot. */
static void restore(struct state* st, const struct state* snap) {
    for (size_t i = snap->n_accounts; i < st->n_accounts; i++) free_account(&st->accounts[i]);
    *st = *snap;
}

static struct slot* find_slot(struct state* st, const athcon_address* a, const athcon_bytes32* k) {
    for (size_t i = 0; i < st->n_slots; i++)
        if (addr_eq(&st->slots[i].address, a) && memcmp(st->slots[i].key.bytes, k->bytes, 32) == 0)
            return &st->slots[i];
    return NULL;
}

static athcon_address make_address(uint8_t tag, uint32_t n) {
    athcon_address a;
    memset(&a, 0, sizeof a);
    a.bytes[0] = tag;
    memcpy(&a.bytes[20], &n, 4);
    return a;
}

/* ---------- callbacks ---------- */

#define HOST(ctx) ((struct host*)(void*)(ctx))

static bool cb_account_exists(struct athcon_host_context* ctx, const athcon_address* a) {
    return find_account(&HOST(ctx)->st, a) != NULL;
}

static athcon_bytes32 cb_get_storage(struct athcon_host_context* ctx, const athcon_address* a, const athcon_bytes32* k) {
    athcon_bytes32 zero;
    struct slot* s = find_slot(&HOST(ctx)->st, a, k);
    memset(&zero, 0, sizeof zero);
    return s ? s->value : zero;
}

static uint32_t cb_set_storage(struct athcon_host_context* ctx, const athcon_address* a, const athcon_bytes32* k,
                               const athcon_bytes32* v) {
    struct host* h = HOST(ctx);
    struct slot* s = find_slot(&h->st, a, k);
    athcon_bytes32 cur;
    memset(&cur, 0, sizeof cur);
    if (s) cur = s->value;
    uint32_t status;
    if (memcmp(cur.bytes, v->bytes, 32) == 0) return ATHCON_STORAGE_UNCHANGED;
    if (is_zero32(&cur)) status = ATHCON_STORAGE_ADDED;
    else if (is_zero32(v)) status = ATHCON_STORAGE_DELETED;
    else status = ATHCON_STORAGE_MODIFIED;
    if (s) {
        s->value = *v;
    } else if (h->st.n_slots < MAX_SLOTS) {
        s = &h->st.slots[h->st.n_slots++];
        s->address = *a;
        s->key = *k;
        s->value = *v;
    }
    if (status == ATHCON_STORAGE_ADDED) h->storage_added++;
    return status;
}

static uint64_t cb_get_balance(struct athcon_host_context* ctx, const athcon_address* a) {
    struct account* acc = find_account(&HOST(ctx)->st, a);
    return acc ? acc->balance : 0;
}

/* A result owned by this host: output in malloc'd memory, freed by us. */
static void host_release(const struct athcon_result* r) {
    struct host* h = (struct host*)r->private_data.pointer;
    free((void*)r->output_data);
    if (h) h->host_results_freed++;
}

static struct athcon_result host_result(struct host* h, int32_t status, uint64_t gas_left, const uint8_t* data,
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
    r.private_data.pointer = h;
    h->host_results_alloc++;
    return r;
}

static void release_vm_result(struct host* h, struct athcon_result* r) {
    if (r->release) r->release(r);
    h->vm_results_released++;
}

static struct athcon_result run_frame(struct host* h, uint32_t revision, const struct athcon_message* msg);

/* selector("spawn") = blake3("spawn")[..4]: the input of a new program's
 * initialising run (athcon.h, athcon_call_fn). */
static const uint8_t SPAWN_SELECTOR[4] = {0x3f, 0x80, 0x0a, 0xc5};

/* A spawn message (recipient = template, input = state): create the
 * program, run the template's code for it with the spawn selector, and
 * undo the creation unless that run succeeds. This host's addresses are
 * fresh (tag 0x5a + nonce), so "already spawned" only guards against a
 * collision with an existing account. The result is ours. */
static struct athcon_result spawn_frame(struct host* h, const struct athcon_message* msg) {
    struct state* snap = malloc(sizeof *snap);
    *snap = h->st;
    struct account* t = find_account(&h->st, &msg->recipient);
    athcon_address a = make_address(0x5a, ++h->st.nonce);
    struct account* acc = NULL;
    if (t && t->code && !find_account(&h->st, &a)) acc = add_account(&h->st, a, 0, t->code, t->code_size);
    if (!acc) {
        restore(&h->st, snap);
        free(snap);
        return host_result(h, ATHCON_FAILURE, 0, NULL, 0);
    }
    acc->spawned = 1;
    if (msg->input_size) {
        acc->state = malloc(msg->input_size);
        memcpy(acc->state, msg->input_data, msg->input_size);
        acc->state_size = msg->input_size;
    }
    struct athcon_message init = *msg;
    init.recipient = a;
    init.input_data = SPAWN_SELECTOR;
    init.input_size = sizeof SPAWN_SELECTOR;
    struct athcon_result inner = run_frame(h, ATHCON_LATEST_REVISION, &init);
    struct athcon_result r;
    if (inner.status_code == ATHCON_SUCCESS) {
        h->spawns++;
        r = host_result(h, ATHCON_SUCCESS, inner.gas_left, a.bytes, sizeof a.bytes);
    } else {
        restore(&h->st, snap);
        r = host_result(h, inner.status_code, inner.gas_left, inner.output_data, inner.output_size);
    }
    release_vm_result(h, &inner);
    free(snap);
    return r;
}

static struct athcon_result cb_call(struct athcon_host_context* ctx, const struct athcon_message* msg) {
    struct host* h = HOST(ctx);
    h->calls++;
    if ((long)msg->depth > h->max_depth_seen) h->max_depth_seen = msg->depth;
    if (msg->kind == ATHCON_SPAWN) return spawn_frame(h, msg);
    struct athcon_result inner = run_frame(h, ATHCON_LATEST_REVISION, msg);
    /* Copy the VM's result into one we own, then release the VM's: this
     * exercises both release directions. */
    struct athcon_result r = host_result(h, inner.status_code, inner.gas_left, inner.output_data, inner.output_size);
    release_vm_result(h, &inner);
    return r;
}

static size_t cb_get_state(struct athcon_host_context* ctx, const athcon_address* a, uint8_t* out, size_t cap) {
    struct host* h = HOST(ctx);
    struct account* acc = find_account(&h->st, a);
    h->state_fetches++;
    if (!acc || !acc->state_size) return 0;
    memcpy(out, acc->state, acc->state_size < cap ? acc->state_size : cap);
    return acc->state_size;
}

static int32_t cb_deploy(struct athcon_host_context* ctx, const uint8_t* code, size_t code_size, athcon_address* out) {
    struct host* h = HOST(ctx);
    if (code_size < 4 || memcmp(code, "\x7f" "ELF", 4) != 0) return ATHCON_FAILURE;
    athcon_address a = make_address(0xd0, ++h->st.nonce);
    if (!add_account(&h->st, a, 0, code, code_size)) return ATHCON_INTERNAL_ERROR;
    *out = a;
    return ATHCON_SUCCESS;
}

static struct athcon_tx_context cb_get_tx_context(struct athcon_host_context* ctx) {
    struct athcon_tx_context t;
    (void)ctx;
    memset(&t, 0, sizeof t);
    t.gas_price = 1;
    t.origin = make_address(0xaa, 1);
    t.block_height = 1000;
    t.block_timestamp = 1700000000;
    t.block_gas_limit = 100000000000ull;
    t.chain_id.bytes[31] = 7;
    return t;
}

static athcon_bytes32 cb_get_block_hash(struct athcon_host_context* ctx, uint64_t height) {
    athcon_bytes32 hsh;
    (void)ctx;
    memset(&hsh, 0, sizeof hsh);
    if (height < 1000) memcpy(hsh.bytes, &height, 8);
    return hsh;
}

static void cb_emit_log(struct athcon_host_context* ctx, const athcon_address* a, const athcon_bytes32* topics,
                        size_t n_topics, const uint8_t* data, size_t size) {
    (void)a;
    (void)topics;
    (void)n_topics;
    (void)data;
    (void)size;
    HOST(ctx)->st.n_logs++;
}

static const struct athcon_host_interface g_iface = {
    cb_account_exists, cb_get_storage, cb_set_storage,    cb_get_balance,    cb_call,
    cb_get_state,      cb_deploy,      cb_get_tx_context, cb_get_block_hash, cb_emit_log,
};

/* One frame, as a node runs it: balance check, value transfer, execution
 * of the recipient's code, and revert of everything on non-success. The
 * returned result belongs to the VM's allocator: release it. */
static struct athcon_result run_frame(struct host* h, uint32_t revision, const struct athcon_message* msg) {
    struct state* snap = malloc(sizeof *snap);
    *snap = h->st;
    struct account* from = find_account(&h->st, &msg->sender);
    struct account* to = find_account(&h->st, &msg->recipient);
    struct athcon_result r;
    if (msg->value && (!from || from->balance < msg->value)) {
        free(snap);
        memset(&r, 0, sizeof r);
        r.status_code = ATHCON_INSUFFICIENT_BALANCE;
        r.gas_left = msg->gas;
        return r; /* release == NULL: nothing allocated */
    }
    if (msg->value) {
        from->balance -= msg->value;
        if (!to) to = add_account(&h->st, msg->recipient, 0, NULL, 0);
        to->balance += msg->value;
    }
    h->vm_results++;
    r = h->vm->execute(h->vm, h->iface, (struct athcon_host_context*)(void*)h, revision, msg,
                       to ? to->code : NULL, to ? to->code_size : 0);
    if (r.status_code != ATHCON_SUCCESS) restore(&h->st, snap);
    free(snap);
    return r;
}

static void host_init(struct host* h, struct athcon_vm* vm) {
    memset(h, 0, sizeof *h);
    h->vm = vm;
    h->iface = &g_iface;
}

static void host_free(struct host* h) {
    for (size_t i = 0; i < h->st.n_accounts; i++) free_account(&h->st.accounts[i]);
    h->st.n_accounts = 0;
}

/* ---------- loading ---------- */

static uint8_t* read_file(const char* path, size_t* size) {
    FILE* f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t* buf = malloc(n > 0 ? (size_t)n : 1);
    *size = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* Loader rule (docs/athcon.md): base name, drop "lib", cut at the first
 * '.', '-' → '_', then "athcon_create_" + name, falling back to
 * "athcon_create". */
typedef struct athcon_vm* (*create_fn)(void);
static create_fn find_create(void* lib, const char* path, char* used, size_t used_size) {
    const char* base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strncmp(base, "lib", 3) == 0) base += 3;
    char sym[256];
    int n = snprintf(sym, sizeof sym, "athcon_create_");
    for (const char* p = base; *p && *p != '.' && n < (int)sizeof sym - 1; p++) sym[n++] = (*p == '-') ? '_' : *p;
    sym[n] = 0;
    void* f = dlsym(lib, sym);
    if (!f) {
        snprintf(sym, sizeof sym, "athcon_create");
        f = dlsym(lib, sym);
    }
    snprintf(used, used_size, "%s", sym);
    create_fn fn;
    memcpy(&fn, &f, sizeof fn); /* object pointer → function pointer (POSIX) */
    return f ? fn : NULL;
}

/* ---------- scenarios ---------- */

static struct athcon_message message_to(athcon_address to, uint64_t gas, const uint8_t* input, size_t size) {
    struct athcon_message m;
    memset(&m, 0, sizeof m);
    m.kind = ATHCON_CALL;
    m.gas = gas;
    m.recipient = to;
    m.sender = make_address(0xaa, 1);
    m.input_data = input;
    m.input_size = size;
    return m;
}

static void scenario_storage(struct athcon_vm* vm, const uint8_t* code, size_t code_size) {
    struct host h;
    host_init(&h, vm);
    athcon_address me = make_address(0x57, 1);
    add_account(&h.st, me, 0, code, code_size);

    struct athcon_message m = message_to(me, 10000000, NULL, 0);
    struct athcon_result r = run_frame(&h, ATHCON_FRONTIER, &m);
    athcon_bytes32 key, want;
    memset(key.bytes, 0x11, 32);
    memset(want.bytes, 0x22, 32);
    athcon_bytes32 got = cb_get_storage((struct athcon_host_context*)(void*)&h, &me, &key);
    check(r.status_code == ATHCON_SUCCESS, "storage-rw default: status %d", r.status_code);
    check(r.output_size == 32 && r.output_data && memcmp(r.output_data, want.bytes, 32) == 0,
          "storage-rw default: returns the value read back (%zu bytes)", r.output_size);
    check(memcmp(got.bytes, want.bytes, 32) == 0 && h.storage_added == 1, "storage-rw default: host table holds the slot");
    check(r.gas_left > 0 && r.gas_left < m.gas, "storage-rw default: gas used %llu",
          (unsigned long long)(m.gas - r.gas_left));
    release_vm_result(&h, &r);

    uint8_t input[64];
    memset(input, 0x33, 32);
    for (int i = 0; i < 32; i++) input[32 + i] = (uint8_t)i;
    m = message_to(me, 10000000, input, 64);
    r = run_frame(&h, ATHCON_FRONTIER, &m);
    memcpy(key.bytes, input, 32);
    got = cb_get_storage((struct athcon_host_context*)(void*)&h, &me, &key);
    check(r.status_code == ATHCON_SUCCESS && r.output_size == 32 && memcmp(r.output_data, input + 32, 32) == 0 &&
              memcmp(got.bytes, input + 32, 32) == 0 && h.st.n_slots == 2,
          "storage-rw custom key/value: stored and returned (%zu slots)", h.st.n_slots);
    release_vm_result(&h, &r);

    /* Out of gas: the frame fails and the host reverts its write. */
    memset(input, 0x44, 32);
    m = message_to(me, 200, input, 64);
    r = run_frame(&h, ATHCON_FRONTIER, &m);
    check(r.status_code == ATHCON_OUT_OF_GAS && r.gas_left == 0 && h.st.n_slots == 2,
          "storage-rw with 200 gas: out_of_gas, nothing kept (status %d)", r.status_code);
    release_vm_result(&h, &r);
    check(h.vm_results == h.vm_results_released, "storage-rw: every VM result released");
    host_free(&h);
}

static uint64_t fib_ref(uint32_t n) {
    uint64_t a = 0, b = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

/* Runs fib-call(n) in a fresh host; returns the status, writes value/gas. */
static int32_t run_fib(struct athcon_vm* vm, const uint8_t* code, size_t code_size, uint32_t n, uint64_t* value,
                       uint64_t* gas_used, uint8_t* out4, long* calls, long* leaks) {
    struct host h;
    host_init(&h, vm);
    athcon_address me = make_address(0xf1, 1);
    add_account(&h.st, me, 0, code, code_size);
    uint8_t input[4];
    memcpy(input, &n, 4);
    struct athcon_message m = message_to(me, 5000000000ull, input, 4);
    struct athcon_result r = run_frame(&h, ATHCON_FRONTIER, &m);
    int32_t status = r.status_code;
    *value = 0;
    if (r.output_size == 8) memcpy(value, r.output_data, 8);
    if (out4) {
        memset(out4, 0xff, 4);
        if (r.output_size == 4) memcpy(out4, r.output_data, 4);
    }
    *gas_used = m.gas - r.gas_left;
    release_vm_result(&h, &r);
    if (calls) *calls = h.calls;
    if (leaks) *leaks = (h.host_results_alloc - h.host_results_freed) + (h.vm_results - h.vm_results_released);
    host_free(&h);
    return status;
}

struct fib_job {
    struct athcon_vm* vm;
    const uint8_t* code;
    size_t code_size;
    uint32_t n;
    uint64_t value, gas;
    int32_t status;
};

static void* fib_thread(void* arg) {
    struct fib_job* j = arg;
    for (int i = 0; i < 3; i++) j->status = run_fib(j->vm, j->code, j->code_size, j->n, &j->value, &j->gas, NULL, NULL, NULL);
    return NULL;
}

static void scenario_fib(struct athcon_vm* vm, const uint8_t* code, size_t code_size, uint32_t max_n) {
    uint64_t prev_gas = 0;
    for (uint32_t n = 0; n <= max_n; n++) {
        uint64_t value, gas, value2, gas2;
        long calls, leaks;
        int32_t s = run_fib(vm, code, code_size, n, &value, &gas, NULL, &calls, &leaks);
        int32_t s2 = run_fib(vm, code, code_size, n, &value2, &gas2, NULL, NULL, NULL);
        check(s == ATHCON_SUCCESS && value == fib_ref(n), "fib-call(%u) = %llu (want %llu), %ld nested calls", n,
              (unsigned long long)value, (unsigned long long)fib_ref(n), calls);
        check(s2 == s && value2 == value && gas2 == gas, "fib-call(%u) deterministic: gas %llu both runs", n,
              (unsigned long long)gas);
        if (n >= 2) check(gas > prev_gas, "fib-call(%u) costs more than fib-call(%u): %llu > %llu", n, n - 1,
                          (unsigned long long)gas, (unsigned long long)prev_gas);
        check(leaks == 0, "fib-call(%u): every result released (%ld outstanding)", n, leaks);
        prev_gas = gas;
    }

    /* Concurrency: several threads, one VM instance, one host each. */
    enum { THREADS = 4 };
    pthread_t t[THREADS];
    struct fib_job jobs[THREADS];
    uint32_t n = max_n < 8 ? max_n : 8;
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct fib_job){vm, code, code_size, n, 0, 0, -100};
        pthread_create(&t[i], NULL, fib_thread, &jobs[i]);
    }
    uint64_t v0, g0;
    run_fib(vm, code, code_size, n, &v0, &g0, NULL, NULL, NULL);
    int same = 1;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        same = same && jobs[i].status == ATHCON_SUCCESS && jobs[i].value == v0 && jobs[i].gas == g0;
    }
    check(same, "concurrent: %d threads x 3 runs of fib-call(%u) on one VM agree (gas %llu)", THREADS, n,
          (unsigned long long)g0);
}

static void scenario_depth(struct athcon_vm* vm, const uint8_t* code, size_t code_size) {
    uint64_t value, gas;
    uint8_t out4[4];
    long leaks;
    check(vm->set_option && vm->set_option(vm, "max_call_depth", "3") == ATHCON_SET_OPTION_SUCCESS,
          "set_option max_call_depth=3");
    /* fib-call(n) nests n-1 deep: n = 4 fits (depth 3), n = 6 does not. */
    int32_t s = run_fib(vm, code, code_size, 4, &value, &gas, NULL, NULL, &leaks);
    check(s == ATHCON_SUCCESS && value == 3, "depth 3: fib-call(4) still succeeds (status %d)", s);
    s = run_fib(vm, code, code_size, 6, &value, &gas, out4, NULL, &leaks);
    uint32_t inner;
    memcpy(&inner, out4, 4);
    check(s == ATHCON_REVERT && inner == ATHCON_CALL_DEPTH_EXCEEDED,
          "depth 3: fib-call(6) reverts with call_depth_exceeded from the deepest frame (status %d, data %u)", s,
          inner);
    check(leaks == 0, "depth failure: every result released");
    check(vm->set_option(vm, "max_call_depth", "default") == ATHCON_SET_OPTION_SUCCESS, "set_option back to default");
    s = run_fib(vm, code, code_size, 6, &value, &gas, NULL, NULL, NULL);
    check(s == ATHCON_SUCCESS && value == 8, "default depth: fib-call(6) = %llu", (unsigned long long)value);

    /* A top-level message already beyond the limit is refused with all gas. */
    struct host h;
    host_init(&h, vm);
    athcon_address me = make_address(0xf1, 1);
    add_account(&h.st, me, 0, code, code_size);
    struct athcon_message m = message_to(me, 12345, NULL, 0);
    m.depth = 100000;
    struct athcon_result r = run_frame(&h, ATHCON_FRONTIER, &m);
    check(r.status_code == ATHCON_CALL_DEPTH_EXCEEDED && r.gas_left == 12345,
          "message at depth 100000: call_depth_exceeded, gas returned (status %d, gas_left %llu)", r.status_code,
          (unsigned long long)r.gas_left);
    release_vm_result(&h, &r);
    host_free(&h);
}

/* Spawning through call messages of kind ATHCON_SPAWN, and the program state
 * served by get_state. FACTORY spawns the template whose address starts its
 * input, with the rest of the input as state, and returns the 4-byte status
 * word and the 24-byte address it got; ECHO returns its own state (through
 * STATE_SIZE / STATE_READ); REVERTER's spawn method reverts. */
static void scenario_spawn(struct athcon_vm* vm, const uint8_t* factory, size_t factory_size, const uint8_t* echo,
                           size_t echo_size, const uint8_t* reverter, size_t reverter_size) {
    struct host h;
    host_init(&h, vm);
    athcon_address f = make_address(0xfa, 1), e = make_address(0xec, 1), rv = make_address(0x4e, 1);
    add_account(&h.st, f, 0, factory, factory_size);
    add_account(&h.st, e, 0, echo, echo_size);
    add_account(&h.st, rv, 0, reverter, reverter_size);
    static const char state[] = "state of a program spawned by the C host";
    uint8_t input[24 + sizeof state];
    memcpy(input, e.bytes, 24);
    memcpy(input + 24, state, sizeof state);

    struct athcon_message m = message_to(f, 100000000, input, sizeof input);
    struct athcon_result r = run_frame(&h, ATHCON_FRONTIER, &m);
    uint32_t word = 99;
    athcon_address spawned;
    memset(&spawned, 0, sizeof spawned);
    if (r.output_size == 28) {
        memcpy(&word, r.output_data, 4);
        memcpy(spawned.bytes, r.output_data + 4, 24);
    }
    struct account* p = find_account(&h.st, &spawned);
    check(r.status_code == ATHCON_SUCCESS && word == ATHCON_SUCCESS && p && p->spawned && h.spawns == 1,
          "spawn: factory spawned the echo template (status %d, word %u)", r.status_code, word);
    check(p && p->state_size == sizeof state && memcmp(p->state, state, sizeof state) == 0,
          "spawn: the program holds its state");
    release_vm_result(&h, &r);

    long fetches = h.state_fetches;
    m = message_to(spawned, 10000000, NULL, 0);
    r = run_frame(&h, ATHCON_FRONTIER, &m);
    check(r.status_code == ATHCON_SUCCESS && r.output_size == sizeof state &&
              memcmp(r.output_data, state, sizeof state) == 0 && h.state_fetches == fetches + 1,
          "state: the program reads its state back, one get_state per frame (status %d, %zu bytes)", r.status_code,
          r.output_size);
    release_vm_result(&h, &r);

    size_t accounts = h.st.n_accounts;
    memcpy(input, rv.bytes, 24);
    m = message_to(f, 100000000, input, sizeof input);
    r = run_frame(&h, ATHCON_FRONTIER, &m);
    word = 99;
    int zeroed = 0;
    if (r.output_size == 28) {
        static const uint8_t zero[24];
        memcpy(&word, r.output_data, 4);
        zeroed = memcmp(r.output_data + 4, zero, 24) == 0;
    }
    check(r.status_code == ATHCON_SUCCESS && word == ATHCON_REVERT && zeroed && h.st.n_accounts == accounts,
          "spawn: a reverting spawn method leaves no account (word %u, %zu accounts)", word, h.st.n_accounts);
    release_vm_result(&h, &r);

    memset(input, 0x33, 24);
    m = message_to(f, 100000000, input, sizeof input);
    r = run_frame(&h, ATHCON_FRONTIER, &m);
    word = 99;
    if (r.output_size == 28) memcpy(&word, r.output_data, 4);
    check(r.status_code == ATHCON_SUCCESS && word == ATHCON_FAILURE && h.st.n_accounts == accounts,
          "spawn: an unknown template fails (word %u)", word);
    release_vm_result(&h, &r);
    check(h.host_results_alloc == h.host_results_freed && h.vm_results == h.vm_results_released,
          "spawn: every result released");
    host_free(&h);
}

static void scenario_abi(struct athcon_vm* vm, const uint8_t* code, size_t code_size) {
    struct host h;
    host_init(&h, vm);
    athcon_address me = make_address(0x57, 1);
    struct athcon_message m = message_to(me, 1000000, NULL, 0);
    struct athcon_result r;

    check(vm->set_option(vm, "no-such-option", "1") == ATHCON_SET_OPTION_INVALID_NAME, "set_option unknown name");
    check(vm->set_option(vm, "engine", "warp") == ATHCON_SET_OPTION_INVALID_VALUE, "set_option bad value");
    check(vm->set_option(vm, NULL, "x") == ATHCON_SET_OPTION_ERROR, "set_option NULL name");

    r = vm->execute(vm, &g_iface, (struct athcon_host_context*)(void*)&h, 77, &m, code, code_size);
    check(r.status_code == ATHCON_REJECTED, "unknown revision: rejected (%d)", r.status_code);
    if (r.release) r.release(&r);
    r = vm->execute(vm, NULL, NULL, ATHCON_FRONTIER, &m, code, code_size);
    check(r.status_code == ATHCON_REJECTED, "NULL host: rejected (%d)", r.status_code);
    if (r.release) r.release(&r);
    r = vm->execute(vm, &g_iface, (struct athcon_host_context*)(void*)&h, ATHCON_FRONTIER, NULL, code, code_size);
    check(r.status_code == ATHCON_REJECTED, "NULL message: rejected (%d)", r.status_code);
    if (r.release) r.release(&r);
    r = vm->execute(NULL, &g_iface, (struct athcon_host_context*)(void*)&h, ATHCON_FRONTIER, &m, code, code_size);
    check(r.status_code == ATHCON_INTERNAL_ERROR, "NULL vm: internal_error (%d)", r.status_code);
    if (r.release) r.release(&r);
    static const uint8_t junk[] = "definitely not an ELF file";
    r = vm->execute(vm, &g_iface, (struct athcon_host_context*)(void*)&h, ATHCON_FRONTIER, &m, junk, sizeof junk);
    check(r.status_code == ATHCON_FAILURE && r.gas_left == 0, "garbage code: failure (%d)", r.status_code);
    if (r.release) r.release(&r);
    r = vm->execute(vm, &g_iface, (struct athcon_host_context*)(void*)&h, ATHCON_FRONTIER, &m, NULL, 5);
    check(r.status_code == ATHCON_REJECTED, "NULL code with size 5: rejected (%d)", r.status_code);
    if (r.release) r.release(&r);
    uint8_t* big = calloc(ATHCON_MAX_INPUT_SIZE + 1, 1);
    m.input_data = big;
    m.input_size = ATHCON_MAX_INPUT_SIZE + 1;
    r = vm->execute(vm, &g_iface, (struct athcon_host_context*)(void*)&h, ATHCON_FRONTIER, &m, code, code_size);
    check(r.status_code == ATHCON_REJECTED, "oversized input: rejected (%d)", r.status_code);
    if (r.release) r.release(&r);
    free(big);
    m.input_data = NULL;
    m.input_size = 3;
    r = vm->execute(vm, &g_iface, (struct athcon_host_context*)(void*)&h, ATHCON_FRONTIER, &m, code, code_size);
    check(r.status_code == ATHCON_REJECTED, "NULL input with size 3: rejected (%d)", r.status_code);
    if (r.release) r.release(&r);
    struct athcon_host_interface partial = g_iface;
    partial.emit_log = NULL;
    m.input_size = 0;
    r = vm->execute(vm, &partial, (struct athcon_host_context*)(void*)&h, ATHCON_FRONTIER, &m, code, code_size);
    check(r.status_code == ATHCON_REJECTED, "host table with a NULL callback: rejected (%d)", r.status_code);
    if (r.release) r.release(&r);
    host_free(&h);
}

int main(int argc, char** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s LIBATHCON STORAGE_RW_ELF FIB_CALL_ELF [MAX_FIB [FACTORY_ELF ECHO_ELF REVERTER_ELF]]\n",
                argv[0]);
        return 2;
    }
    uint32_t max_fib = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 10;
    void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
        return 2;
    }
    char sym[300];
    create_fn create = find_create(lib, argv[1], sym, sizeof sym);
    check(create != NULL, "loader: create function %s", sym);
    if (!create) return 1;
    struct athcon_vm* vm = create();
    check(vm != NULL, "create returned an instance");
    if (!vm) return 1;
    check(vm->abi_version == ATHCON_ABI_VERSION, "abi_version %u == %u", vm->abi_version, ATHCON_ABI_VERSION);
    if (vm->abi_version != ATHCON_ABI_VERSION) return 1;
    check(vm->name && vm->name[0] && vm->version && vm->version[0], "identity: %s %s", vm->name, vm->version);
    uint32_t caps = vm->get_capabilities(vm);
    check((caps & ATHCON_CAPABILITY_RV32E) != 0, "capabilities 0x%x include RV32E", caps);

    size_t srw_size, fib_size;
    uint8_t* srw = read_file(argv[2], &srw_size);
    uint8_t* fib = read_file(argv[3], &fib_size);
    if (!srw || !fib) {
        fprintf(stderr, "cannot read the ELF files\n");
        return 2;
    }

    scenario_storage(vm, srw, srw_size);
    scenario_fib(vm, fib, fib_size, max_fib);
    scenario_depth(vm, fib, fib_size);
    scenario_abi(vm, srw, srw_size);
    if (argc > 7) {
        size_t sizes[3];
        uint8_t* progs[3];
        for (int i = 0; i < 3; i++) {
            progs[i] = read_file(argv[5 + i], &sizes[i]);
            if (!progs[i]) {
                fprintf(stderr, "cannot read %s\n", argv[5 + i]);
                return 2;
            }
        }
        scenario_spawn(vm, progs[0], sizes[0], progs[1], sizes[1], progs[2], sizes[2]);
        for (int i = 0; i < 3; i++) free(progs[i]);
    }

    vm->destroy(vm);
    free(srw);
    free(fib);
    /* The VM library keeps a process-wide program cache (docs/athcon.md,
     * "Unloading"); under a leak checker keep the library mapped so that
     * cache shows as reachable and only real leaks are reported. */
    if (!getenv("ATHCON_HOST_KEEP_LIBRARY")) dlclose(lib);
    printf("c-host summary: %d ok, %d not ok\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
