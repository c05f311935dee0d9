/* C side of the Go host: the athcon_host_interface whose callbacks
 * forward to exported Go functions, and thin wrappers for calling the VM's
 * function pointers (Go cannot call C function pointers itself). */
#ifndef ATHENA_GO_BRIDGE_H
#define ATHENA_GO_BRIDGE_H

#include <stdint.h>
#include "athcon.h"

/* dlopen `path` and create a VM by the loader rule of docs/athcon.md.
 * On failure returns NULL and writes a message to err. On success
 * *handle_out is the dlopen handle and `symbol` the create symbol used. */
struct athcon_vm* bridge_load(const char* path, void** handle_out, char* symbol, size_t symbol_size, char* err,
                              size_t err_size);
void bridge_unload(struct athcon_vm* vm, void* handle);

/* vm->execute with the Go host table; `host` is the Go host's cgo.Handle.
 * null_host passes NULL for the table and context. */
struct athcon_result bridge_execute(struct athcon_vm* vm, uintptr_t host, int null_host, uint32_t revision,
                                    const struct athcon_message* msg, const uint8_t* code, size_t code_size);
int32_t bridge_set_option(struct athcon_vm* vm, const char* name, const char* value);
uint32_t bridge_capabilities(struct athcon_vm* vm);
void bridge_release(struct athcon_result* result);

/* A result created by the Go host (output copied into malloc'd memory);
 * its release function frees it and reports to the Go host. */
struct athcon_result bridge_host_result(uintptr_t host, int32_t status, uint64_t gas_left, const uint8_t* data,
                                        size_t size);

#endif
