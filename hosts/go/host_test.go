package athconhost

import (
	"bytes"
	"encoding/binary"
	"os"
	"sync"
	"testing"
)

// Inputs, set by crates/athcon/tests/go_host.rs.
const (
	envLib       = "ATHCON_LIB"
	envStorageRW = "ATHCON_STORAGE_RW_ELF"
	envFibCall   = "ATHCON_FIB_CALL_ELF"
	envFactory   = "ATHCON_FACTORY_ELF"
	envEcho      = "ATHCON_ECHO_ELF"
	envReverter  = "ATHCON_REVERTER_ELF"
)

var (
	vm                      *VM
	storageRW, fibCall      []byte
	factory, echo, reverter []byte
)

func TestMain(m *testing.M) {
	lib, srw, fib := os.Getenv(envLib), os.Getenv(envStorageRW), os.Getenv(envFibCall)
	if lib == "" || srw == "" || fib == "" || os.Getenv(envFactory) == "" || os.Getenv(envEcho) == "" || os.Getenv(envReverter) == "" {
		os.Stderr.WriteString("set " + envLib + ", " + envStorageRW + ", " + envFibCall + ", " + envFactory + ", " +
			envEcho + " and " + envReverter + " (crates/athcon/tests/go_host.rs does)\n")
		os.Exit(2)
	}
	var err error
	if vm, err = Load(lib); err != nil {
		os.Stderr.WriteString("load " + lib + ": " + err.Error() + "\n")
		os.Exit(2)
	}
	if storageRW, err = os.ReadFile(srw); err != nil {
		panic(err)
	}
	if fibCall, err = os.ReadFile(fib); err != nil {
		panic(err)
	}
	for _, p := range []struct {
		env string
		out *[]byte
	}{{envFactory, &factory}, {envEcho, &echo}, {envReverter, &reverter}} {
		if *p.out, err = os.ReadFile(os.Getenv(p.env)); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	vm.Close()
	os.Exit(code)
}

func address(tag byte) Address {
	var a Address
	a[0] = tag
	a[23] = 1
	return a
}

var principal = address(0xaa)

func call(to Address, gas uint64, input []byte) Message {
	return Message{Gas: gas, Recipient: to, Sender: principal, Input: input}
}

func fill(b byte) (w Word) {
	for i := range w {
		w[i] = b
	}
	return
}

func TestIdentity(t *testing.T) {
	if vm.ABIVersion() != ABIVersion {
		t.Fatalf("abi_version %d, want %d", vm.ABIVersion(), ABIVersion)
	}
	if vm.Name() == "" || vm.Version() == "" {
		t.Fatalf("empty identity %q %q", vm.Name(), vm.Version())
	}
	if vm.Symbol != "athcon_create" {
		t.Errorf("loader used %q, want the generic athcon_create for libathcon.so", vm.Symbol)
	}
	if vm.Capabilities()&1 == 0 {
		t.Errorf("capabilities %#x lack RV32E", vm.Capabilities())
	}
	t.Logf("%s %s via %s, capabilities %#x", vm.Name(), vm.Version(), vm.Symbol, vm.Capabilities())
}

func TestStorageRW(t *testing.T) {
	h := NewHost(vm)
	defer h.Close()
	me := address(0x57)
	h.AddAccount(me, storageRW, 0)

	r := h.Run(0, call(me, 10_000_000, nil))
	want := fill(0x22)
	if r.Status != Success || !bytes.Equal(r.Output, want[:]) {
		t.Fatalf("default run: %v %x", r, r.Output)
	}
	if got := h.Storage(me, fill(0x11)); got != want || h.StorageAdded != 1 {
		t.Fatalf("host table: %x (added %d)", got, h.StorageAdded)
	}
	if r.GasLeft == 0 || r.GasLeft >= 10_000_000 {
		t.Fatalf("gas_left %d", r.GasLeft)
	}

	input := make([]byte, 64)
	for i := range input {
		input[i] = byte(i + 1)
	}
	r = h.Run(0, call(me, 10_000_000, input))
	var key, val Word
	copy(key[:], input[:32])
	copy(val[:], input[32:])
	if r.Status != Success || !bytes.Equal(r.Output, val[:]) || h.Storage(me, key) != val || h.Slots() != 2 {
		t.Fatalf("custom key/value: %v, %d slots", r, h.Slots())
	}

	// Too little gas: out_of_gas, and the host reverts the frame's write.
	input[0] = 0xee
	r = h.Run(0, call(me, 200, input))
	if r.Status != OutOfGas || r.GasLeft != 0 || h.Slots() != 2 {
		t.Fatalf("out of gas run: %v, %d slots", r, h.Slots())
	}
	if h.Outstanding() != 0 {
		t.Fatalf("%d results not released", h.Outstanding())
	}
}

func fibRef(n uint32) uint64 {
	a, b := uint64(0), uint64(1)
	for i := uint32(0); i < n; i++ {
		a, b = b, a+b
	}
	return a
}

type fibRun struct {
	result Result
	value  uint64
	gas    uint64
	calls  int
	depth  int
	leaks  int
}

func runFib(n uint32) fibRun {
	h := NewHost(vm)
	defer h.Close()
	me := address(0xf1)
	h.AddAccount(me, fibCall, 0)
	input := make([]byte, 4)
	binary.LittleEndian.PutUint32(input, n)
	msg := call(me, 5_000_000_000, input)
	r := h.Run(0, msg)
	run := fibRun{result: r, gas: msg.Gas - r.GasLeft, calls: h.Calls, depth: h.MaxDepth, leaks: h.Outstanding()}
	if len(r.Output) == 8 {
		run.value = binary.LittleEndian.Uint64(r.Output)
	}
	return run
}

func TestFibCall(t *testing.T) {
	var prev uint64
	for n := uint32(0); n <= 10; n++ {
		a, b := runFib(n), runFib(n)
		if a.result.Status != Success || a.value != fibRef(n) {
			t.Fatalf("fib-call(%d): %v value %d, want %d", n, a.result, a.value, fibRef(n))
		}
		if a.gas != b.gas || a.value != b.value {
			t.Fatalf("fib-call(%d) not deterministic: gas %d vs %d", n, a.gas, b.gas)
		}
		if n >= 2 && a.gas <= prev {
			t.Fatalf("fib-call(%d) gas %d not above fib-call(%d)'s %d", n, a.gas, n-1, prev)
		}
		if n >= 2 && a.depth != int(n-1) {
			t.Fatalf("fib-call(%d) max depth %d, want %d", n, a.depth, n-1)
		}
		if a.leaks != 0 {
			t.Fatalf("fib-call(%d): %d results not released", n, a.leaks)
		}
		t.Logf("fib-call(%d) = %d: gas %d, %d nested calls", n, a.value, a.gas, a.calls)
		prev = a.gas
	}
}

func TestDepthLimit(t *testing.T) {
	if r := vm.SetOption("max_call_depth", "3"); r != SetOptionSuccess {
		t.Fatalf("set_option max_call_depth=3: %d", r)
	}
	defer vm.SetOption("max_call_depth", "default")
	if run := runFib(4); run.result.Status != Success || run.value != 3 {
		t.Fatalf("fib-call(4) within depth 3: %v", run.result)
	}
	run := runFib(6)
	if run.result.Status != Revert || len(run.result.Output) != 4 ||
		int32(binary.LittleEndian.Uint32(run.result.Output)) != CallDepthExceeded {
		t.Fatalf("fib-call(6) at depth 3: %v %x, want revert carrying call_depth_exceeded", run.result, run.result.Output)
	}
	if run.leaks != 0 {
		t.Fatalf("%d results not released", run.leaks)
	}
	vm.SetOption("max_call_depth", "default")
	if run := runFib(6); run.result.Status != Success || run.value != 8 {
		t.Fatalf("fib-call(6) at default depth: %v", run.result)
	}
}

func TestInvalidRequests(t *testing.T) {
	h := NewHost(vm)
	defer h.Close()
	msg := call(address(0x57), 1_000_000, nil)
	cases := []struct {
		name string
		req  RawRequest
		want int32
	}{
		{"unknown revision", RawRequest{Host: h, Revision: 99, Message: &msg, Code: storageRW}, Rejected},
		{"null host", RawRequest{Revision: 0, Message: &msg, Code: storageRW}, Rejected},
		{"null message", RawRequest{Host: h, Code: storageRW}, Rejected},
		{"null code, size 7", RawRequest{Host: h, Message: &msg, CodeSizeOverride: 7}, Rejected},
		{"garbage code", RawRequest{Host: h, Message: &msg, Code: []byte("not an ELF at all")}, Failure},
		{"oversized input", RawRequest{Host: h, Message: &Message{Gas: 1000, Input: make([]byte, MaxInputSize+1)}, Code: storageRW}, Rejected},
	}
	for _, c := range cases {
		if r := vm.ExecuteRaw(c.req); r.Status != c.want {
			t.Errorf("%s: %v, want status %d", c.name, r, c.want)
		}
	}
	if r := vm.SetOption("no-such-option", "x"); r != SetOptionInvalidName {
		t.Errorf("unknown option: %d", r)
	}
	if r := vm.SetOption("engine", "warp"); r != SetOptionInvalidValue {
		t.Errorf("bad engine value: %d", r)
	}
	if h.Outstanding() != 0 {
		t.Errorf("%d results not released", h.Outstanding())
	}
}

func TestEnginesAgree(t *testing.T) {
	defer vm.SetOption("engine", "fast")
	fast := runFib(7)
	if r := vm.SetOption("engine", "reference"); r != SetOptionSuccess {
		t.Fatalf("engine=reference: %d", r)
	}
	ref := runFib(7)
	if fast.result.Status != Success || fast.value != ref.value || fast.gas != ref.gas {
		t.Fatalf("fast %v gas %d vs reference %v gas %d", fast.result, fast.gas, ref.result, ref.gas)
	}
}

// Goroutines (hence OS threads, via cgo) executing on one VM instance
// concurrently, each with its own host.
func TestConcurrentExecute(t *testing.T) {
	want := runFib(8)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				got := runFib(8)
				if got.result.Status != Success || got.value != want.value || got.gas != want.gas || got.leaks != 0 {
					errs <- got.result.String()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent run differs: %s (want gas %d)", e, want.gas)
	}
}

// factorySpawn runs the factory program with template ‖ state; it returns
// the status word of its SPAWN and the 24 bytes written at the out pointer.
func factorySpawn(t *testing.T, h *Host, f, template Address, state []byte) (int32, Address) {
	t.Helper()
	r := h.Run(0, call(f, 100_000_000, append(append([]byte{}, template[:]...), state...)))
	if r.Status != Success || len(r.Output) != 28 {
		t.Fatalf("factory: %v", r)
	}
	var a Address
	copy(a[:], r.Output[4:])
	return int32(binary.LittleEndian.Uint32(r.Output)), a
}

// Spawning is a call message of kind ATHCON_SPAWN; programs read their
// state through the get_state callback.
func TestSpawn(t *testing.T) {
	h := NewHost(vm)
	defer h.Close()
	f, e, rv := address(0xfa), address(0xec), address(0x4e)
	h.AddAccount(f, factory, 0)
	h.AddAccount(e, echo, 0)
	h.AddAccount(rv, reverter, 0)
	state := []byte("state of a program spawned by the Go host")

	status, program := factorySpawn(t, h, f, e, state)
	if spawned, got := h.Program(program); status != Success || !spawned || !bytes.Equal(got, state) || h.Spawns != 1 {
		t.Fatalf("spawn: status %d, program %x spawned %v state %q", status, program, spawned, got)
	}
	fetches := h.StateFetches
	r := h.Run(0, call(program, 10_000_000, nil))
	if r.Status != Success || !bytes.Equal(r.Output, state) || h.StateFetches != fetches+1 {
		t.Fatalf("program reading its state: %v %q, %d fetches", r, r.Output, h.StateFetches-fetches)
	}

	accounts := h.Accounts()
	if status, out := factorySpawn(t, h, f, rv, []byte("x")); status != Revert || out != (Address{}) || h.Accounts() != accounts {
		t.Fatalf("reverting spawn method: status %d out %x, %d accounts (want %d)", status, out, h.Accounts(), accounts)
	}
	if status, out := factorySpawn(t, h, f, address(0x33), []byte("x")); status != Failure || out != (Address{}) {
		t.Fatalf("unknown template: status %d out %x", status, out)
	}
	if h.Outstanding() != 0 {
		t.Fatalf("%d results not released", h.Outstanding())
	}
}
