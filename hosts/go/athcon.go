// Package athconhost is a blockchain host written in Go that runs Athena
// programs through the athcon C ABI (crates/athcon/include/athcon.h): it
// dlopens a VM library, keeps accounts, balances and storage in Go maps,
// serves every host callback, re-enters the VM for nested calls and
// reverts failed frames. Only the Go standard library and cgo are used.
package athconhost

/*
#cgo CFLAGS: -I${SRCDIR}/../../crates/athcon/include -std=c99 -Wall
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Status codes (enum athcon_status_code).
const (
	Success             = int32(C.ATHCON_SUCCESS)
	Failure             = int32(C.ATHCON_FAILURE)
	Revert              = int32(C.ATHCON_REVERT)
	OutOfGas            = int32(C.ATHCON_OUT_OF_GAS)
	CallDepthExceeded   = int32(C.ATHCON_CALL_DEPTH_EXCEEDED)
	InsufficientBalance = int32(C.ATHCON_INSUFFICIENT_BALANCE)
	InternalError       = int32(C.ATHCON_INTERNAL_ERROR)
	Rejected            = int32(C.ATHCON_REJECTED)
)

// set_option results (enum athcon_set_option_result).
const (
	SetOptionSuccess      = int32(C.ATHCON_SET_OPTION_SUCCESS)
	SetOptionInvalidName  = int32(C.ATHCON_SET_OPTION_INVALID_NAME)
	SetOptionInvalidValue = int32(C.ATHCON_SET_OPTION_INVALID_VALUE)
)

// ABIVersion is the ATHCON_ABI_VERSION this host is compiled against.
const ABIVersion = uint32(C.ATHCON_ABI_VERSION)

// MaxInputSize is ATHCON_MAX_INPUT_SIZE.
const MaxInputSize = int(C.ATHCON_MAX_INPUT_SIZE)

// Address is an account address (athcon_address).
type Address [24]byte

// Word is a 32-byte storage key or value (athcon_bytes32).
type Word [32]byte

// Message is a request to execute one frame (struct athcon_message).
type Message struct {
	Kind           uint32
	Depth          uint32
	Gas            uint64
	Recipient      Address
	Sender         Address
	SenderTemplate Address
	Input          []byte
	Value          uint64
}

// Result is a copied, already released athcon_result.
type Result struct {
	Status  int32
	GasLeft uint64
	Output  []byte
}

// VM is a loaded athcon VM instance.
type VM struct {
	vm     *C.struct_athcon_vm
	handle unsafe.Pointer
	// Symbol is the create function the loader used.
	Symbol string
}

// Load opens an athcon library and creates a VM instance, checking the
// ABI version.
func Load(path string) (*VM, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var handle unsafe.Pointer
	var sym [256]C.char
	var errbuf [512]C.char
	vm := C.bridge_load(cpath, &handle, &sym[0], C.size_t(len(sym)), &errbuf[0], C.size_t(len(errbuf)))
	if vm == nil {
		return nil, errors.New(C.GoString(&errbuf[0]))
	}
	return &VM{vm: vm, handle: handle, Symbol: C.GoString(&sym[0])}, nil
}

// Close destroys the instance and unloads the library.
func (v *VM) Close() { C.bridge_unload(v.vm, v.handle) }

// Name is athcon_vm.name.
func (v *VM) Name() string { return C.GoString(v.vm.name) }

// Version is athcon_vm.version.
func (v *VM) Version() string { return C.GoString(v.vm.version) }

// ABIVersion is athcon_vm.abi_version.
func (v *VM) ABIVersion() uint32 { return uint32(v.vm.abi_version) }

// Capabilities calls get_capabilities.
func (v *VM) Capabilities() uint32 { return uint32(C.bridge_capabilities(v.vm)) }

// SetOption calls set_option.
func (v *VM) SetOption(name, value string) int32 {
	cn, cv := C.CString(name), C.CString(value)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cv))
	return int32(C.bridge_set_option(v.vm, cn, cv))
}

// cMessage copies msg into C memory (cgo forbids passing Go memory that
// holds Go pointers); free with freeMessage.
func cMessage(msg *Message) *C.struct_athcon_message {
	m := (*C.struct_athcon_message)(C.calloc(1, C.sizeof_struct_athcon_message))
	m.kind = C.uint32_t(msg.Kind)
	m.depth = C.uint32_t(msg.Depth)
	m.gas = C.uint64_t(msg.Gas)
	m.recipient = *(*C.athcon_address)(unsafe.Pointer(&msg.Recipient))
	m.sender = *(*C.athcon_address)(unsafe.Pointer(&msg.Sender))
	m.sender_template = *(*C.athcon_address)(unsafe.Pointer(&msg.SenderTemplate))
	if len(msg.Input) > 0 {
		m.input_data = (*C.uint8_t)(C.CBytes(msg.Input))
	}
	m.input_size = C.size_t(len(msg.Input))
	m.value = C.uint64_t(msg.Value)
	return m
}

func freeMessage(m *C.struct_athcon_message) {
	C.free(unsafe.Pointer(m.input_data))
	C.free(unsafe.Pointer(m))
}

func goMessage(m *C.struct_athcon_message) Message {
	msg := Message{
		Kind:           uint32(m.kind),
		Depth:          uint32(m.depth),
		Gas:            uint64(m.gas),
		Recipient:      *(*Address)(unsafe.Pointer(&m.recipient)),
		Sender:         *(*Address)(unsafe.Pointer(&m.sender)),
		SenderTemplate: *(*Address)(unsafe.Pointer(&m.sender_template)),
		Value:          uint64(m.value),
	}
	if m.input_size > 0 {
		msg.Input = C.GoBytes(unsafe.Pointer(m.input_data), C.int(m.input_size))
	}
	return msg
}

// takeResult copies a VM-created result and releases it through its own
// release function.
func takeResult(r *C.struct_athcon_result) Result {
	res := Result{Status: int32(r.status_code), GasLeft: uint64(r.gas_left)}
	if r.output_size > 0 && r.output_data != nil {
		res.Output = C.GoBytes(unsafe.Pointer(r.output_data), C.int(r.output_size))
	}
	C.bridge_release(r)
	return res
}

// RawRequest drives execute with arbitrary (also invalid) arguments.
type RawRequest struct {
	Host     *Host // nil: NULL host table and context
	Revision uint32
	Message  *Message // nil: NULL message
	Code     []byte   // nil: NULL code
	// CodeSizeOverride, if non-zero, is passed as code_size instead of len(Code).
	CodeSizeOverride int
}

// ExecuteRaw calls vm->execute and returns the released result.
func (v *VM) ExecuteRaw(req RawRequest) Result {
	var msg *C.struct_athcon_message
	if req.Message != nil {
		msg = cMessage(req.Message)
		defer freeMessage(msg)
	}
	var code *C.uint8_t
	if req.Code != nil && len(req.Code) > 0 {
		code = (*C.uint8_t)(C.CBytes(req.Code))
		defer C.free(unsafe.Pointer(code))
	}
	size := len(req.Code)
	if req.CodeSizeOverride != 0 {
		size = req.CodeSizeOverride
	}
	var handle C.uintptr_t
	nullHost := C.int(1)
	if req.Host != nil {
		handle, nullHost = C.uintptr_t(req.Host.handle), 0
	}
	r := C.bridge_execute(v.vm, handle, nullHost, C.uint32_t(req.Revision), msg, code, C.size_t(size))
	if req.Host != nil {
		req.Host.vmResults++
		return req.Host.take(&r)
	}
	return takeResult(&r)
}

func (r Result) String() string {
	return fmt.Sprintf("status %d gas_left %d output %d bytes", r.Status, r.GasLeft, len(r.Output))
}
