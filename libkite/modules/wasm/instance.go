package wasm

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// instance is one instantiated plugin module. It runs one call at a time.
type instance struct {
	mod   api.Module
	alloc api.Function // kite_alloc, or nil
	free  api.Function // kite_free, or nil
	fns   map[string]api.Function
	out   *output
	stack []uint64
	cur   atomic.Pointer[call] // the call in progress, for sleeps
}

// newInstance instantiates eng's code: WASI without files, environment or
// arguments, real clocks, guest stdout and stderr into the instance's
// output buffer, and the Go reactor's _initialize as start function.
// c is the call that needs it (host callbacks made while initialising
// belong to that call).
func newInstance(ctx context.Context, eng *engine, c *call) (*instance, error) {
	inst := &instance{out: &output{}, fns: map[string]api.Function{}}
	c.inst = inst
	inst.cur.Store(c)
	defer inst.cur.Store(nil)
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize").
		WithStdout(inst.out).
		WithStderr(inst.out).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(inst.sleep).
		WithRandSource(rand.Reader)
	mod, err := eng.rt.InstantiateModule(ctx, eng.code, cfg)
	if err != nil {
		return nil, err
	}
	inst.mod = mod
	inst.alloc = mod.ExportedFunction(allocExport)
	inst.free = mod.ExportedFunction(freeExport)
	return inst, nil
}

// sleep is the guest's nanosleep: real time, cut short when the current
// call's context ends (the guest then stops at its next check).
func (inst *instance) sleep(ns int64) {
	var done <-chan struct{}
	if c := inst.cur.Load(); c != nil {
		done = c.ctx.Done()
	}
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	}
}

func (inst *instance) close() {
	if inst.mod != nil {
		inst.mod.Close(context.Background())
	}
}

// function returns the export called name (nil if missing).
func (inst *instance) function(name string) api.Function {
	fn, ok := inst.fns[name]
	if !ok {
		fn = inst.mod.ExportedFunction(name)
		inst.fns[name] = fn
	}
	return fn
}

// memorySize is the instance's linear memory size in bytes (0 if unknown).
func (inst *instance) memorySize() (size uint64) {
	defer func() { recover() }() // a closed module may refuse
	if inst == nil || inst.mod == nil || inst.mod.Memory() == nil {
		return 0
	}
	return uint64(inst.mod.Memory().Size())
}

// output keeps what the guest wrote to stdout and stderr during one call:
// the first headSize bytes and the last tailSize, so both the start of a
// panic message and the end of a long trace survive.
type output struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte
	dropped bool
}

const (
	headSize = 1 << 10
	tailSize = 4 << 10
)

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(p)
	if room := headSize - len(o.head); room > 0 {
		k := min(room, len(p))
		o.head = append(o.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	o.tail = append(o.tail, p...)
	if len(o.tail) > 2*tailSize {
		o.dropped = true
		o.tail = append(o.tail[:0], o.tail[len(o.tail)-tailSize:]...)
	}
	return n, nil
}

// String is the captured output ("…" marks a dropped middle).
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	tail := o.tail
	if len(tail) > tailSize {
		tail = tail[len(tail)-tailSize:]
		o.dropped = true
	}
	if o.dropped {
		return string(o.head) + "\n…\n" + string(tail)
	}
	return string(o.head) + string(tail)
}

func (o *output) reset() {
	o.mu.Lock()
	o.head, o.tail, o.dropped = o.head[:0], o.tail[:0], false
	o.mu.Unlock()
}

// Names of the allocation exports.
const (
	allocExport = "kite_alloc"
	freeExport  = "kite_free"
)

// allocator returns mod's kite_alloc: the instance's cached one when mod
// is inst's module (looking an export up builds a new call engine).
func (inst *instance) allocator(mod api.Module) api.Function {
	if inst != nil && inst.mod == mod && inst.alloc != nil {
		return inst.alloc
	}
	return mod.ExportedFunction(allocExport)
}

// allocate copies data into a fresh buffer from alloc (mod's kite_alloc)
// and returns its address (0 for empty data).
func allocate(ctx context.Context, mod api.Module, alloc api.Function, data []byte) (uint32, error) {
	if len(data) == 0 {
		return 0, nil
	}
	if alloc == nil {
		return 0, fmt.Errorf("the plugin does not export %s", allocExport)
	}
	var stack [1]uint64
	stack[0] = uint64(len(data))
	if err := alloc.CallWithStack(ctx, stack[:]); err != nil {
		return 0, err
	}
	ptr := uint32(stack[0])
	if ptr == 0 || !mod.Memory().Write(ptr, data) {
		return 0, fmt.Errorf("%s(%d) returned an invalid address %#x", allocExport, len(data), ptr)
	}
	return ptr, nil
}

// readMemory copies [ptr, ptr+n) out of mod's memory.
func readMemory(mod api.Module, ptr, n uint32) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("buffer %#x+%d is outside the plugin's memory", ptr, n)
	}
	return append([]byte(nil), b...), nil
}
