package athconhost

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"bytes"
	"encoding/binary"
	"runtime/cgo"
	"unsafe"
)

// Account is one account of the Go host.
type Account struct {
	Balance uint64
	code    *C.uint8_t // C copy of the ELF, shared by snapshots; freed by Close
	size    int
	spawned bool   // created by a spawn (has a template)
	state   []byte // immutable program state; never modified, so snapshots share it
}

type slotKey struct {
	addr Address
	key  Word
}

// state is everything a frame can change; copied as a revert snapshot.
type state struct {
	accounts map[Address]Account
	storage  map[slotKey]Word
	logs     int
	nonce    uint32
}

func (s *state) clone() state {
	c := state{accounts: make(map[Address]Account, len(s.accounts)), storage: make(map[slotKey]Word, len(s.storage)), logs: s.logs, nonce: s.nonce}
	for k, v := range s.accounts {
		c.accounts[k] = v
	}
	for k, v := range s.storage {
		c.storage[k] = v
	}
	return c
}

// Host is a node's state plus the statistics the tests check. One Host is
// used by one goroutine at a time; different Hosts may share one VM.
type Host struct {
	vm     *VM
	handle cgo.Handle
	st     state
	codes  []*C.uint8_t

	// Calls counts nested CALLs served; MaxDepth is the deepest seen.
	Calls, MaxDepth int
	// StorageAdded counts writes classified as added.
	StorageAdded int
	// Spawns counts programs created; StateFetches get_state callbacks.
	Spawns, StateFetches int
	// Results this host created for the VM (call callback) and how many
	// the VM released; results the VM created and how many we released.
	HostResults, HostResultsReleased, vmResults, vmReleased int
}

// NewHost makes an empty host bound to vm.
func NewHost(vm *VM) *Host {
	h := &Host{vm: vm, st: state{accounts: map[Address]Account{}, storage: map[slotKey]Word{}}}
	h.handle = cgo.NewHandle(h)
	return h
}

// Close frees the host's C memory and its handle.
func (h *Host) Close() {
	for _, c := range h.codes {
		C.free(unsafe.Pointer(c))
	}
	h.codes = nil
	h.handle.Delete()
}

// Outstanding is the number of results not yet released, in either
// direction; 0 when ownership was honoured.
func (h *Host) Outstanding() int {
	return (h.HostResults - h.HostResultsReleased) + (h.vmResults - h.vmReleased)
}

// AddAccount creates an account with code (may be nil) and balance.
func (h *Host) AddAccount(a Address, code []byte, balance uint64) {
	acc := Account{Balance: balance}
	if len(code) > 0 {
		acc.code = (*C.uint8_t)(C.CBytes(code))
		acc.size = len(code)
		h.codes = append(h.codes, acc.code)
	}
	h.st.accounts[a] = acc
}

// Storage reads a slot from the host's table.
func (h *Host) Storage(a Address, k Word) Word { return h.st.storage[slotKey{a, k}] }

// Slots is the number of non-zero slots.
func (h *Host) Slots() int { return len(h.st.storage) }

// Balance of an account.
func (h *Host) Balance(a Address) uint64 { return h.st.accounts[a].Balance }

// Program reports whether a was created by a spawn, and its state.
func (h *Host) Program(a Address) (bool, []byte) {
	acc := h.st.accounts[a]
	return acc.spawned, acc.state
}

// Accounts is the number of accounts.
func (h *Host) Accounts() int { return len(h.st.accounts) }

// Run executes msg as a top-level frame (as Frame does for nested ones).
func (h *Host) Run(revision uint32, msg Message) Result {
	m := cMessage(&msg)
	defer freeMessage(m)
	r := h.frame(revision, m)
	return h.take(&r)
}

func (h *Host) take(r *C.struct_athcon_result) Result {
	h.vmReleased++
	return takeResult(r)
}

// frame runs one frame as a node does: balance check, value transfer,
// execution of the recipient's code, revert of everything on non-success.
// The result is the VM's; the caller releases it.
func (h *Host) frame(revision uint32, m *C.struct_athcon_message) C.struct_athcon_result {
	msg := goMessage(m)
	snapshot := h.st.clone()
	if msg.Value > 0 {
		from, ok := h.st.accounts[msg.Sender]
		if !ok || from.Balance < msg.Value {
			h.vmResults++ // counted as a result we must "release": NULL release
			return C.struct_athcon_result{status_code: C.int32_t(InsufficientBalance), gas_left: m.gas}
		}
		from.Balance -= msg.Value
		h.st.accounts[msg.Sender] = from
		to := h.st.accounts[msg.Recipient]
		to.Balance += msg.Value
		h.st.accounts[msg.Recipient] = to
	}
	to := h.st.accounts[msg.Recipient]
	h.vmResults++
	r := C.bridge_execute(h.vm.vm, C.uintptr_t(h.handle), 0, C.uint32_t(revision), m, to.code, C.size_t(to.size))
	if int32(r.status_code) != Success {
		h.st = snapshot
	}
	return r
}

func host(handle C.uintptr_t) *Host { return cgo.Handle(handle).Value().(*Host) }

func addr(a *C.athcon_address) Address { return *(*Address)(unsafe.Pointer(a)) }
func word(w *C.athcon_bytes32) Word    { return *(*Word)(unsafe.Pointer(w)) }

//export goAccountExists
func goAccountExists(handle C.uintptr_t, a *C.athcon_address) C.int {
	if _, ok := host(handle).st.accounts[addr(a)]; ok {
		return 1
	}
	return 0
}

//export goGetStorage
func goGetStorage(handle C.uintptr_t, a *C.athcon_address, k *C.athcon_bytes32, out *C.athcon_bytes32) {
	v := host(handle).Storage(addr(a), word(k))
	*out = *(*C.athcon_bytes32)(unsafe.Pointer(&v))
}

//export goSetStorage
func goSetStorage(handle C.uintptr_t, a *C.athcon_address, k *C.athcon_bytes32, v *C.athcon_bytes32) C.uint32_t {
	h := host(handle)
	key := slotKey{addr(a), word(k)}
	cur, val := h.st.storage[key], word(v)
	var zero Word
	var status C.uint32_t
	switch {
	case cur == val:
		return C.ATHCON_STORAGE_UNCHANGED
	case cur == zero:
		status = C.ATHCON_STORAGE_ADDED
		h.StorageAdded++
	case val == zero:
		status = C.ATHCON_STORAGE_DELETED
	default:
		status = C.ATHCON_STORAGE_MODIFIED
	}
	if val == zero {
		delete(h.st.storage, key)
	} else {
		h.st.storage[key] = val
	}
	return status
}

//export goGetBalance
func goGetBalance(handle C.uintptr_t, a *C.athcon_address) C.uint64_t {
	return C.uint64_t(host(handle).st.accounts[addr(a)].Balance)
}

// spawnSelector is selector("spawn") = blake3("spawn")[:4], the input of a
// new program's initialising run (athcon.h, athcon_call_fn).
var spawnSelector = []byte{0x3f, 0x80, 0x0a, 0xc5}

// spawn serves a call message of kind ATHCON_SPAWN (recipient = template,
// input = state): it creates the program, runs the template's code for it
// with the spawn selector as input, and undoes the creation unless that run
// succeeds. Addresses are fresh (tag 0x5a + nonce), so "already spawned"
// only guards against a collision with an existing account.
func (h *Host) spawn(m *C.struct_athcon_message) (status int32, gasLeft uint64, output []byte) {
	msg := goMessage(m)
	snapshot := h.st.clone()
	tmpl, ok := h.st.accounts[msg.Recipient]
	a := h.newAddress(0x5a)
	if _, taken := h.st.accounts[a]; !ok || tmpl.code == nil || taken {
		h.st = snapshot
		return Failure, 0, nil
	}
	h.st.accounts[a] = Account{code: tmpl.code, size: tmpl.size, spawned: true, state: msg.Input}
	init := (*C.struct_athcon_message)(C.calloc(1, C.sizeof_struct_athcon_message))
	*init = *m
	init.recipient = *(*C.athcon_address)(unsafe.Pointer(&a))
	init.input_data = (*C.uint8_t)(C.CBytes(spawnSelector))
	init.input_size = C.size_t(len(spawnSelector))
	defer freeMessage(init)
	r := h.frame(C.ATHCON_LATEST_REVISION, init)
	res := h.take(&r)
	if res.Status != Success {
		h.st = snapshot
		return res.Status, res.GasLeft, res.Output
	}
	h.Spawns++
	return Success, res.GasLeft, a[:]
}

//export goCall
func goCall(handle C.uintptr_t, m *C.struct_athcon_message, out *C.struct_athcon_result) {
	h := host(handle)
	h.Calls++
	if int(m.depth) > h.MaxDepth {
		h.MaxDepth = int(m.depth)
	}
	if m.kind == C.ATHCON_SPAWN {
		status, gasLeft, output := h.spawn(m)
		var data *C.uint8_t
		if len(output) > 0 {
			data = (*C.uint8_t)(unsafe.Pointer(&output[0]))
		}
		*out = C.bridge_host_result(handle, C.int32_t(status), C.uint64_t(gasLeft), data, C.size_t(len(output)))
		h.HostResults++
		return
	}
	inner := h.frame(C.ATHCON_LATEST_REVISION, m)
	// Copy into a result this host owns and release the VM's: both
	// directions of result ownership are exercised.
	*out = C.bridge_host_result(handle, inner.status_code, inner.gas_left, inner.output_data, inner.output_size)
	h.HostResults++
	h.take(&inner)
}

//export goHostResultReleased
func goHostResultReleased(handle C.uintptr_t) { host(handle).HostResultsReleased++ }

func (h *Host) newAddress(tag byte) Address {
	h.st.nonce++
	var a Address
	a[0] = tag
	binary.LittleEndian.PutUint32(a[20:], h.st.nonce)
	return a
}

//export goGetState
func goGetState(handle C.uintptr_t, a *C.athcon_address, out *C.uint8_t, capacity C.size_t) C.size_t {
	h := host(handle)
	h.StateFetches++
	state := h.st.accounts[addr(a)].state
	n := len(state)
	if n > int(capacity) {
		n = int(capacity)
	}
	if n > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(out)), n), state)
	}
	return C.size_t(len(state))
}

//export goDeploy
func goDeploy(handle C.uintptr_t, code *C.uint8_t, n C.size_t, out *C.athcon_address) C.int32_t {
	h := host(handle)
	bs := C.GoBytes(unsafe.Pointer(code), C.int(n))
	if !bytes.HasPrefix(bs, []byte("\x7fELF")) {
		return C.int32_t(Failure)
	}
	a := h.newAddress(0xd0)
	h.AddAccount(a, bs, 0)
	*out = *(*C.athcon_address)(unsafe.Pointer(&a))
	return C.int32_t(Success)
}

//export goGetTxContext
func goGetTxContext(handle C.uintptr_t, out *C.struct_athcon_tx_context) {
	*out = C.struct_athcon_tx_context{gas_price: 1, block_height: 1000, block_timestamp: 1700000000, block_gas_limit: 100000000000}
	out.chain_id.bytes[31] = 7
}

//export goGetBlockHash
func goGetBlockHash(handle C.uintptr_t, height C.uint64_t, out *C.athcon_bytes32) {
	var w Word
	if height < 1000 {
		binary.LittleEndian.PutUint64(w[:], uint64(height))
	}
	*out = *(*C.athcon_bytes32)(unsafe.Pointer(&w))
}

//export goEmitLog
func goEmitLog(handle C.uintptr_t, a *C.athcon_address, topics *C.athcon_bytes32, n C.size_t, data *C.uint8_t, size C.size_t) {
	host(handle).st.logs++
}
