package k8s

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/workqueue"

	"github.com/project-starkite/starkite/libkite"
)

// controller is one running k8s.control.
//
// Reflectors (one for the primary kind, one per owned kind) run on every
// replica and feed a rate-limiting work queue of (event, key) items;
// workers — all the time, or only while this replica leads — take items,
// find the object (the primary reflector's store, else a GET) and call
// the handler on a fresh thread of the calling script's runtime (its
// print, permissions and cancellation).
//
// For on_update's old object the store keeps, per key, the version
// before the first modification not yet handed to a handler; for
// on_delete the last version of a deleted object is kept until its item
// is done.
type controller struct {
	o      *controlOptions
	x      *call // the k8s.control call (its client and resource helper)
	thread *starlark.Thread
	c      *Client
	ki     *kindInfo
	ns     string // primary scope: "" = all namespaces (or cluster-scoped)
	owned  []*kindInfo
	ownNS  string // scope of the owned watches
	leader *leaderConfig

	store  *objectStore
	queue  workqueue.TypedRateLimitingInterface[controlItem]
	caller *libkite.Caller // handler and predicate calls
	hctx   context.Context // bounds those calls: the script's context, cancelled after a drain
	hstop  context.CancelFunc

	stop    *stopper
	working bool // workers started (under stop.mu)
	workers sync.WaitGroup
}

// stopper is how a controller is asked to stop and tells it has. It is
// all the runtime's cleanup list keeps of a finished controller.
type stopper struct {
	mu       sync.Mutex
	stopping bool
	once     sync.Once
	ch       chan struct{} // closed by request
	done     chan struct{} // closed when the controller has stopped
}

// request asks the controller to stop (any number of times, from
// anywhere).
func (s *stopper) request() {
	s.once.Do(func() {
		s.mu.Lock()
		s.stopping = true
		s.mu.Unlock()
		close(s.ch)
	})
}

// requestAndWait asks the controller to stop and waits until it has.
func (s *stopper) requestAndWait() {
	s.request()
	<-s.done
}

// controlItem is one queue entry: an event type and an object key.
type controlItem struct {
	event watch.EventType
	key   string
}

func newController(x *call, o *controlOptions) (*controller, error) {
	ki, err := x.c.resolveKind(x.ctx, o.kind)
	if err != nil {
		return nil, err
	}
	ct := &controller{o: o, x: x, thread: x.thread, c: x.c, ki: ki, store: newObjectStore(),
		stop: &stopper{ch: make(chan struct{}), done: make(chan struct{})}}
	switch {
	case !ki.Namespaced || o.namespace == "*":
		ct.ns = ""
	case o.namespace == "":
		ct.ns = x.c.ns
	default:
		ct.ns = o.namespace
	}
	// Owned kinds: the controller's namespace when one was asked for,
	// all namespaces otherwise.
	if o.namespace != "*" && o.namespace != "" && ki.Namespaced {
		ct.ownNS = o.namespace
	}
	for _, k := range o.owned {
		oki, err := x.c.resolveKind(x.ctx, k)
		if err != nil {
			return nil, fmt.Errorf("watch_owned: %w", err)
		}
		ct.owned = append(ct.owned, oki)
	}
	if o.leaderElection {
		if ct.leader, err = newLeaderConfig(ct); err != nil {
			return nil, err
		}
	}
	return ct, nil
}

// run starts the reflectors and the workers (or the leader election
// that starts them) and blocks until the controller stops: the script's
// context ends, SIGINT/SIGTERM arrives (unless the script handles them),
// the runtime closes or leadership is lost. It then stops the watches,
// lets in-flight handlers finish and returns.
func (ct *controller) run() {
	parent := libkite.Context(ct.thread)
	ct.hctx, ct.hstop = context.WithCancel(parent)
	defer ct.hstop()
	ct.caller = libkite.NewCaller("k8s.control", ct.thread, ct.hctx)
	ct.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[controlItem](ct.o.backoff, max(ct.o.backoff, controlRetryMax)),
		workqueue.TypedRateLimitingQueueConfig[controlItem]{})

	// Stop requests: the script's context, the runtime closing, and
	// SIGINT/SIGTERM. The last two wait for the drain, so the process
	// does not exit (nor the runtime go away) mid-handler.
	st := ct.stop
	unwatch := context.AfterFunc(parent, st.request)
	defer unwatch()
	if rt := libkite.GetRuntime(ct.thread); rt != nil {
		rt.AddCleanup(st.requestAndWait)
	}
	defer libkite.StopOnSignals(ct.thread, "k8s.control.on_signal", st.requestAndWait)()
	defer close(st.done)

	watchCtx, stopWatches := context.WithCancel(context.Background())
	defer stopWatches()
	var watchers sync.WaitGroup
	goWatch := func(f func(context.Context)) {
		watchers.Add(1)
		go func() { defer watchers.Done(); f(watchCtx) }()
	}
	goWatch(ct.primaryReflector().run)
	for _, oki := range ct.owned {
		goWatch(ct.ownedReflector(oki).run)
	}
	if ct.o.resync > 0 {
		goWatch(ct.resyncLoop)
	}

	var stopElection func()
	if ct.leader == nil {
		ct.startWorkers()
	} else {
		stopElection = ct.elect()
	}

	<-st.ch
	stopWatches()
	ct.queue.ShutDown()
	ct.drain(&ct.workers, controlDrainTimeout)
	if stopElection != nil {
		stopElection() // after the workers: the lease guarded them
	}
	ct.drain(&watchers, controlDrainTimeout)
}

func (ct *controller) isStopping() bool {
	ct.stop.mu.Lock()
	defer ct.stop.mu.Unlock()
	return ct.stop.stopping
}

// drain waits for wg; after timeout it cancels the handler context (so
// script calls stop at their next step) and waits as long again at most
// (a call blocked in a builtin that ignores cancellation ends on its own).
func (ct *controller) drain(wg *sync.WaitGroup, timeout time.Duration) {
	idle := make(chan struct{})
	go func() { wg.Wait(); close(idle) }()
	select {
	case <-idle:
		return
	case <-time.After(timeout):
	}
	ct.hstop()
	select {
	case <-idle:
	case <-time.After(timeout):
	}
}

// startWorkers starts the workers once (unless the controller stops).
func (ct *controller) startWorkers() {
	ct.stop.mu.Lock()
	defer ct.stop.mu.Unlock()
	if ct.stop.stopping || ct.working {
		return
	}
	ct.working = true
	for range ct.o.workers {
		ct.workers.Add(1)
		go func() {
			defer ct.workers.Done()
			for {
				it, shutdown := ct.queue.Get()
				if shutdown {
					return
				}
				if ct.isStopping() { // ShutDown still hands out what is queued
					ct.queue.Done(it)
					return
				}
				ct.process(it)
				ct.queue.Done(it)
			}
		}()
	}
}

// handlerFor is the handler an event goes to (spec §13's dispatch
// table): the specific one, else reconcile (specific false); nil when
// there is none.
func (ct *controller) handlerFor(ev watch.EventType) (h starlark.Callable, specific bool) {
	switch ev {
	case watch.Added:
		h = ct.o.onCreate
	case watch.Modified:
		h = ct.o.onUpdate
	case watch.Deleted:
		h = ct.o.onDelete
	}
	if h != nil {
		return h, true
	}
	return ct.o.reconcile, false
}

// handles reports whether an event type has a handler.
func (ct *controller) handles(ev watch.EventType) bool {
	h, _ := ct.handlerFor(ev)
	return h != nil
}

// primaryReflector watches the controller's kind with its selectors.
func (ct *controller) primaryReflector() *reflector {
	return &reflector{
		what:    ct.describe(ct.ki, ct.ns),
		res:     ct.x.resource(ct.ki, ct.ns),
		opts:    metav1.ListOptions{LabelSelector: ct.o.labels, FieldSelector: ct.o.fields},
		timeout: ct.c.timeout,
		store:   ct.store,
		admit: func(ev watch.EventType, obj map[string]any) bool {
			return ct.handles(ev) && ct.admit(ev, obj)
		},
		record: func(ev watch.EventType, key string, obj, prev map[string]any, admitted bool) {
			s := ct.store
			switch {
			case !admitted:
			case ev == watch.Modified:
				if _, pending := s.old[key]; !pending && prev != nil {
					s.old[key] = prev
				}
			case ev == watch.Deleted:
				s.tombs[key] = &tomb{obj}
			}
			if ev != watch.Modified {
				delete(s.old, key) // a new life (or none): no stale old version
			}
		},
		deliver: func(ev watch.EventType, key string, _, _ map[string]any) {
			ct.queue.Add(controlItem{ev, key})
		},
	}
}

// ownedReflector watches an owned kind: every event on an object with an
// ownerReference of the controller's kind enqueues the owner as MODIFIED
// (when a change drops or replaces the reference, the former owner too).
// Its store keeps only such objects (so a relist notices their deletion).
func (ct *controller) ownedReflector(oki *kindInfo) *reflector {
	return &reflector{
		what:    ct.describe(oki, ct.ownNS),
		res:     ct.x.resource(oki, ct.ownNS),
		timeout: ct.c.timeout,
		store:   newObjectStore(),
		keep:    func(obj map[string]any) bool { return len(ct.ownerKeys(obj)) > 0 },
		deliver: func(_ watch.EventType, _ string, obj, prev map[string]any) {
			if !ct.handles(watch.Modified) {
				return
			}
			keys := ct.ownerKeys(obj)
			if prev != nil {
				keys = append(keys, ct.ownerKeys(prev)...)
			}
			for _, key := range keys {
				ct.queue.Add(controlItem{watch.Modified, key}) // the queue folds duplicates
			}
		},
	}
}

// ownerKeys are the keys of obj's owners of the controller's kind (within
// its scope).
func (ct *controller) ownerKeys(obj map[string]any) []string {
	md := nestedMap(obj, "metadata")
	ns := str(md, "namespace")
	refs, _ := md["ownerReferences"].([]any)
	var keys []string
	for _, r := range refs {
		ref, _ := r.(map[string]any)
		if !strings.EqualFold(str(ref, "kind"), ct.ki.Kind) || str(ref, "name") == "" {
			continue
		}
		key := str(ref, "name")
		if ct.ki.Namespaced {
			if ns == "" || (ct.ns != "" && ns != ct.ns) {
				continue // an owner outside the controller's scope
			}
			key = ns + "/" + key
		}
		keys = append(keys, key)
	}
	return keys
}

// resyncLoop re-lists the primary kind every resync period and enqueues
// every object as ADDED (predicate applied).
func (ct *controller) resyncLoop(ctx context.Context) {
	r := ct.primaryReflector()
	t := time.NewTicker(ct.o.resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		objs, _, err := r.list(ctx)
		if err != nil {
			if ctx.Err() == nil {
				controlNote("resync %s: %v", r.what, err)
			}
			continue
		}
		if !ct.handles(watch.Added) {
			continue
		}
		for _, obj := range objs {
			if ctx.Err() != nil {
				return
			}
			if ct.admit(watch.Added, obj) {
				ct.queue.Add(controlItem{watch.Added, objectKey(obj)})
			}
		}
	}
}

// admit evaluates the predicate: no predicate, or any result but False,
// admits; an error drops the event with a note.
func (ct *controller) admit(ev watch.EventType, obj map[string]any) bool {
	if ct.o.predicate == nil {
		return true
	}
	v, err := ct.caller.Call(ct.o.predicate, starlark.Tuple{starlark.String(ev), handlerObject(obj)}, nil)
	if err != nil {
		if ct.hctx.Err() == nil {
			controlNote("%s %s: predicate failed, event dropped: %v", ev, objectKey(obj), err)
		}
		return false
	}
	if b, ok := v.(starlark.Bool); ok {
		return bool(b)
	}
	return true
}

// handlerObject is the AttrDict a handler gets: a copy of obj.
func handlerObject(obj map[string]any) *AttrDict {
	return NewAttrDict(deepCopyJSON(obj).(map[string]any))
}

// work is one item's objects as found for its handler.
type work struct {
	obj, old map[string]any
	tomb     *tomb // DELETED: the store's entry, released when done
}

// process handles one item: finds its objects, calls its handler and
// decides what becomes of the item (done, retried, requeued, dropped).
func (ct *controller) process(it controlItem) {
	h, specific := ct.handlerFor(it.event)
	if h == nil {
		ct.queue.Forget(it)
		return
	}
	w, ok, err := ct.objects(it)
	if err == nil && !ok {
		ct.queue.Forget(it) // gone: nothing to do
		return
	}
	var v starlark.Value
	if err == nil {
		var args starlark.Tuple
		switch {
		case specific:
			if it.event == watch.Modified {
				args = starlark.Tuple{handlerObject(w.old), handlerObject(w.obj)}
			} else {
				args = starlark.Tuple{handlerObject(w.obj)}
			}
		default:
			args = starlark.Tuple{starlark.String(it.event), handlerObject(w.obj)}
		}
		v, err = ct.caller.Call(h, args, nil)
	}
	if err != nil {
		if ct.hctx.Err() != nil {
			return // stopping: the queue goes away with its items
		}
		ct.restore(it, w)
		if n := ct.queue.NumRequeues(it); n < ct.o.maxRetries {
			controlNote("%s %s: %s (retry %d of %d)", it.event, it.key, err, n+1, ct.o.maxRetries)
			ct.queue.AddRateLimited(it)
			return
		}
		controlNote("%s %s: %s; dropped after %d retries", it.event, it.key, err, ct.o.maxRetries)
		ct.queue.Forget(it)
		ct.release(it, w)
		return
	}
	ct.queue.Forget(it)
	d, rerr := requeueAfter(v)
	if rerr != nil {
		controlNote("%s %s: %v", it.event, it.key, rerr)
	}
	if d > 0 {
		ct.queue.AddAfter(it, d)
		return
	}
	ct.release(it, w)
}

// objects finds an item's objects: a deleted object's last version; else
// the store's current version (and for MODIFIED the version before the
// change, or the current one when unknown), re-fetched when the store
// does not have it. ok is false when there is nothing to handle.
func (ct *controller) objects(it controlItem) (w work, ok bool, err error) {
	s := ct.store
	s.mu.Lock()
	switch it.event {
	case watch.Deleted:
		t := s.tombs[it.key]
		s.mu.Unlock()
		if t == nil {
			return work{}, false, nil
		}
		return work{obj: t.obj, tomb: t}, true, nil
	default:
		obj := s.objs[it.key]
		var old map[string]any
		if obj != nil && it.event == watch.Modified {
			old = s.old[it.key]
			delete(s.old, it.key)
		}
		s.mu.Unlock()
		if obj == nil {
			if obj, err = ct.fetch(it.key); err != nil || obj == nil {
				return work{}, false, err
			}
		}
		if old == nil {
			old = obj
		}
		return work{obj: obj, old: old}, true, nil
	}
}

// fetch GETs the object of key; nil when it does not exist or is out of
// the controller's scope (namespace, labels).
func (ct *controller) fetch(key string) (map[string]any, error) {
	ns, name := "", key
	if i := strings.IndexByte(key, '/'); i >= 0 {
		ns, name = key[:i], key[i+1:]
	}
	if ct.ns != "" && ns != ct.ns {
		return nil, nil
	}
	ctx := ct.hctx
	if ct.c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ct.c.timeout)
		defer cancel()
	}
	u, err := ct.x.resource(ct.ki, ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if !ct.o.selector.Matches(labels.Set(u.GetLabels())) {
		return nil, nil
	}
	return u.Object, nil
}

// restore puts back a failed MODIFIED item's old version (unless a newer
// change recorded one meanwhile) so the retry sees the same change.
func (ct *controller) restore(it controlItem, w work) {
	if it.event != watch.Modified || w.old == nil {
		return
	}
	s := ct.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, pending := s.old[it.key]; !pending && s.objs[it.key] != nil {
		s.old[it.key] = w.old
	}
}

// release forgets a finished DELETED item's last version (unless the key
// was deleted again meanwhile).
func (ct *controller) release(it controlItem, w work) {
	if w.tomb == nil {
		return
	}
	s := ct.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tombs[it.key] == w.tomb {
		delete(s.tombs, it.key)
	}
}

// requeueAfter reads a handler's {"requeue_after": d} (Kite extension):
// a duration string, or seconds as a number.
func requeueAfter(v starlark.Value) (time.Duration, error) {
	m, ok := v.(starlark.Mapping)
	if !ok {
		return 0, nil
	}
	x, found, err := m.Get(starlark.String("requeue_after"))
	if err != nil || !found || x == starlark.None {
		return 0, nil
	}
	switch x := x.(type) {
	case starlark.String:
		d, err := time.ParseDuration(string(x))
		if err != nil || d < 0 {
			return 0, fmt.Errorf("invalid requeue_after %q", string(x))
		}
		return d, nil
	case starlark.Int, starlark.Float:
		f, _ := starlark.AsFloat(x)
		if f < 0 {
			return 0, fmt.Errorf("invalid requeue_after %s", x)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("invalid requeue_after: got %s, want a duration string", x.Type())
}

// describe names what a reflector watches, for notes.
func (ct *controller) describe(ki *kindInfo, ns string) string {
	if !ki.Namespaced {
		return ki.GVR.Resource
	}
	if ns == "" {
		return ki.GVR.Resource + " in all namespaces"
	}
	return fmt.Sprintf("%s in %q", ki.GVR.Resource, ns)
}
