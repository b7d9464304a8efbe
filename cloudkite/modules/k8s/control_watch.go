package k8s

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// A reflector keeps one kind's objects (in one namespace or all) known
// to a controller: it lists them, then watches from the list's
// resourceVersion, resuming from the last resourceVersion seen whenever
// the stream ends and relisting when the server answers 410 Gone. A
// relist is diffed against what it knew: new objects arrive as ADDED,
// changed ones as MODIFIED, vanished ones as DELETED. Failures are
// retried forever with a backoff of controlWatchBackoff doubling to
// controlWatchBackoffMax.
type reflector struct {
	what string // for notes, e.g. `configmaps in "team-a"`
	res  dynamic.ResourceInterface
	opts metav1.ListOptions // selectors
	// timeout bounds each list request (the client's default timeout).
	timeout time.Duration

	// store is what the reflector knows: the last object per key. Its
	// mutex also guards the state the controller keeps beside it.
	store *objectStore

	// admit decides, outside the store lock, whether an event goes on.
	admit func(ev watch.EventType, obj map[string]any) bool
	// record runs under the store lock once the store holds the event
	// (prev is the object the store held before, nil if none).
	record func(ev watch.EventType, key string, obj, prev map[string]any, admitted bool)
	// deliver runs after record for admitted events, outside the lock.
	deliver func(ev watch.EventType, key string, obj, prev map[string]any)
	// keep, when set, decides which objects the store keeps (the others
	// are still delivered).
	keep func(obj map[string]any) bool
}

// objectStore is a reflector's knowledge plus the controller's
// bookkeeping for its primary kind (see controller).
type objectStore struct {
	mu   sync.Mutex
	objs map[string]map[string]any

	old   map[string]map[string]any // key → version before the first MODIFIED not yet handled
	tombs map[string]*tomb          // key → last version of a deleted object, until handled
}

// tomb is the last version of a deleted object awaiting on_delete.
type tomb struct{ obj map[string]any }

func newObjectStore() *objectStore {
	return &objectStore{objs: map[string]map[string]any{}, old: map[string]map[string]any{}, tombs: map[string]*tomb{}}
}

// objectKey is an object's queue key: `namespace/name`, or `name` for
// cluster-scoped objects.
func objectKey(obj map[string]any) string {
	md := nestedMap(obj, "metadata")
	if ns := str(md, "namespace"); ns != "" {
		return ns + "/" + str(md, "name")
	}
	return str(md, "name")
}

func resourceVersion(obj map[string]any) string {
	return str(nestedMap(obj, "metadata"), "resourceVersion")
}

// sleepCtx waits d unless ctx ends first (false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// run lists and watches until ctx ends.
func (r *reflector) run(ctx context.Context) {
	backoff := controlWatchBackoff
	fail := func(format string, args ...any) bool {
		controlNote(format+"; retrying in %s", append(args, backoff)...)
		ok := sleepCtx(ctx, backoff)
		backoff = min(2*backoff, controlWatchBackoffMax)
		return ok
	}
	rv := ""
	for ctx.Err() == nil {
		if rv == "" {
			objs, listRV, err := r.list(ctx)
			if err != nil {
				if ctx.Err() != nil || !fail("list %s: %v", r.what, err) {
					return
				}
				continue
			}
			r.relist(objs)
			rv = listRV
		}
		opts := r.opts
		opts.ResourceVersion = rv
		opts.AllowWatchBookmarks = true
		w, err := r.res.Watch(ctx, opts)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if isExpired(err) {
				rv = ""
				continue
			}
			if !fail("watch %s: %v", r.what, err) {
				return
			}
			continue
		}
		began := time.Now()
		next, got, err := r.consume(ctx, w, rv)
		w.Stop()
		if ctx.Err() != nil {
			return
		}
		rv = next
		switch {
		case err != nil && isExpired(err):
			rv = "" // relist at once: the resourceVersion is too old
		case err != nil:
			if !fail("watch %s: %v", r.what, err) {
				return
			}
		case got || time.Since(began) >= controlWatchBackoffMax:
			backoff = controlWatchBackoff // a healthy stream the server closed: resume now
		default:
			// closed at once without a word: do not hammer the server
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, controlWatchBackoffMax)
		}
	}
}

// isExpired reports a 410 Gone / Expired answer to a resourceVersion.
func isExpired(err error) bool {
	return apierrors.IsGone(err) || apierrors.IsResourceExpired(err)
}

// consume handles one watch stream until it ends: it returns the last
// resourceVersion seen, whether anything arrived, and the error an ERROR
// event carried.
func (r *reflector) consume(ctx context.Context, w watch.Interface, rv string) (string, bool, error) {
	got := false
	for {
		var ev watch.Event
		var ok bool
		select {
		case <-ctx.Done():
			return rv, got, nil
		case ev, ok = <-w.ResultChan():
		}
		if !ok {
			return rv, got, nil
		}
		got = true
		if ev.Type == watch.Error {
			return rv, got, apierrors.FromObject(ev.Object)
		}
		obj := eventObject(ev)
		if obj == nil {
			continue
		}
		if v := resourceVersion(obj); v != "" {
			rv = v
		}
		switch ev.Type {
		case watch.Added, watch.Modified, watch.Deleted:
			r.event(ev.Type, obj)
		}
	}
}

// list reads every object (all pages) and the list's resourceVersion.
func (r *reflector) list(ctx context.Context) ([]map[string]any, string, error) {
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	opts := r.opts
	var objs []map[string]any
	for {
		l, err := r.res.List(ctx, opts)
		if err != nil {
			return nil, "", err
		}
		for i := range l.Items {
			objs = append(objs, l.Items[i].Object)
		}
		if opts.Continue = l.GetContinue(); opts.Continue == "" {
			return objs, l.GetResourceVersion(), nil
		}
	}
}

// relist turns a fresh list into events against the store: ADDED for
// objects it did not know, MODIFIED for changed ones, DELETED for those
// gone.
func (r *reflector) relist(objs []map[string]any) {
	seen := make(map[string]bool, len(objs))
	for _, obj := range objs {
		key := objectKey(obj)
		seen[key] = true
		r.store.mu.Lock()
		prev := r.store.objs[key]
		r.store.mu.Unlock()
		switch {
		case prev == nil:
			r.event(watch.Added, obj)
		case resourceVersion(prev) != resourceVersion(obj) || resourceVersion(obj) == "":
			r.event(watch.Modified, obj)
		}
	}
	r.store.mu.Lock()
	var gone []map[string]any
	for key, obj := range r.store.objs {
		if !seen[key] {
			gone = append(gone, obj)
		}
	}
	r.store.mu.Unlock()
	for _, obj := range gone {
		r.event(watch.Deleted, obj)
	}
}

// event applies one event to the store and passes it on.
func (r *reflector) event(ev watch.EventType, obj map[string]any) {
	key := objectKey(obj)
	admitted := r.admit == nil || r.admit(ev, obj)
	r.store.mu.Lock()
	prev := r.store.objs[key]
	if ev == watch.Deleted || (r.keep != nil && !r.keep(obj)) {
		delete(r.store.objs, key)
	} else {
		r.store.objs[key] = obj
	}
	if r.record != nil {
		r.record(ev, key, obj, prev, admitted)
	}
	r.store.mu.Unlock()
	if admitted && r.deliver != nil {
		r.deliver(ev, key, obj, prev)
	}
}
