package k8s

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"k8s.io/apimachinery/pkg/labels"
)

// Controllers (spec §13): k8s.control(kind, ...) watches kind (and the
// kinds of watch_owned), queues the events it admits and calls the
// script's handlers for them from worker threads until it is stopped.
//
// Layout: control.go (the builtin: binding, validation, permission, kind
// resolution), control_run.go (the controller: lifecycle, queue, workers,
// dispatch), control_watch.go (list+watch with resume and relist, resync,
// owned kinds), control_leader.go (leader election on a Lease).

// Timings of k8s.control, package variables so tests can shorten them.
var (
	// controlWatchBackoff is the first delay before a failed watch is
	// retried; it doubles up to controlWatchBackoffMax.
	controlWatchBackoff    = time.Second
	controlWatchBackoffMax = 30 * time.Second
	// controlRetryMax caps the per-item backoff of failing handlers.
	controlRetryMax = 5 * time.Minute
	// Leader election (client-go's usual values).
	controlLeaseDuration = 15 * time.Second
	controlRenewDeadline = 10 * time.Second
	controlRetryPeriod   = 2 * time.Second
	// controlDrainTimeout is how long a stopping controller lets its
	// in-flight handlers finish before cancelling them.
	controlDrainTimeout = 30 * time.Second
	// controlReleaseTimeout bounds the wait for the Lease release when a
	// leader stops.
	controlReleaseTimeout = 5 * time.Second
)

// notesOut receives the notes of long-running builtins (k8s.control's
// handler failures and watch trouble, k8s.webhook's start line), one
// "<op>: <msg>" line each; tests substitute a buffer.
var (
	notesMu  sync.Mutex
	notesOut io.Writer = os.Stderr
)

// note writes one note for op (continuation lines of multi-line messages
// indented).
func note(op, format string, args ...any) {
	msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", "\n    ")
	notesMu.Lock()
	defer notesMu.Unlock()
	_, _ = io.WriteString(notesOut, op+": "+msg+"\n")
}

// controlNote writes one k8s.control note.
func controlNote(format string, args ...any) { note("k8s.control", format, args...) }

// controlOptions are k8s.control's arguments once bound and validated.
type controlOptions struct {
	kind                          string
	reconcile, onCreate, onUpdate starlark.Callable
	onDelete, predicate           starlark.Callable
	namespace                     string
	labels, fields                string
	selector                      labels.Selector
	resync, backoff               time.Duration
	workers, maxRetries           int
	owned                         []string
	leaderElection                bool
	leaderID, leaderNS            string
}

// control is k8s.control(kind, reconcile=None, on_create=None,
// on_update=None, on_delete=None, namespace="", labels="",
// field_selector="", resync="", workers=1, max_retries=5, backoff="5s",
// watch_owned=[], predicate=None, leader_election=False,
// leader_election_id="", leader_election_namespace="") -> None (spec §13).
// Permission k8s.read (function slot "read"), checked before any watch.
func (m *module) control(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x := &call{thread: thread, fn: fn.Name(), op: "k8s.control", perm: permRead, client: m.defaultClient}
	return x.finish(runControl(x, args, kwargs))
}

func runControl(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	o, err := bindControl(x, args, kwargs)
	if err != nil {
		return nil, err
	}
	// The controller lives until it is stopped: no per-call deadline.
	if err := x.begin("0"); err != nil {
		return nil, err
	}
	ct, err := newController(x, o)
	if err != nil {
		return nil, err
	}
	ct.run()
	return starlark.None, nil
}

// bindControl binds and validates the arguments (no I/O, no permission).
func bindControl(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (*controlOptions, error) {
	o := &controlOptions{workers: 1, maxRetries: 5}
	var resync string
	backoff := "5s"
	var owned starlark.Value
	if err := x.bind(args, kwargs, "kind", &o.kind,
		"reconcile??", &o.reconcile, "on_create??", &o.onCreate, "on_update??", &o.onUpdate, "on_delete??", &o.onDelete,
		"namespace?", &o.namespace, "labels?", &o.labels, "field_selector?", &o.fields, "resync?", &resync,
		"workers?", &o.workers, "max_retries?", &o.maxRetries, "backoff?", &backoff, "watch_owned??", &owned,
		"predicate??", &o.predicate, "leader_election?", &o.leaderElection,
		"leader_election_id?", &o.leaderID, "leader_election_namespace?", &o.leaderNS); err != nil {
		return nil, err
	}
	if o.reconcile == nil && o.onCreate == nil && o.onUpdate == nil && o.onDelete == nil {
		return nil, errors.New("at least one handler is required (reconcile, on_create, on_update or on_delete)")
	}
	var err error
	if resync != "" {
		if o.resync, err = time.ParseDuration(resync); err != nil || o.resync < 0 {
			return nil, fmt.Errorf("invalid resync %q", resync)
		}
	}
	if o.backoff, err = time.ParseDuration(backoff); err != nil || o.backoff < 0 {
		return nil, fmt.Errorf("invalid backoff %q", backoff)
	}
	if o.workers < 1 {
		return nil, fmt.Errorf("workers must be at least 1, got %d", o.workers)
	}
	if o.maxRetries < 0 {
		return nil, fmt.Errorf("max_retries must not be negative, got %d", o.maxRetries)
	}
	if o.selector, err = labels.Parse(o.labels); err != nil {
		return nil, fmt.Errorf("invalid labels %q: %v", o.labels, err)
	}
	if o.owned, err = ownedKinds(owned); err != nil {
		return nil, err
	}
	return o, nil
}

// ownedKinds reads watch_owned: a list or tuple of kind strings (a single
// string is one kind).
func ownedKinds(v starlark.Value) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case starlark.String:
		return []string{string(v)}, nil
	case starlark.Iterable:
		if _, isMap := v.(starlark.Mapping); isMap {
			break
		}
		var kinds []string
		it := v.Iterate()
		defer it.Done()
		var e starlark.Value
		for i := 0; it.Next(&e); i++ {
			s, ok := starlark.AsString(e)
			if !ok {
				return nil, fmt.Errorf("watch_owned[%d]: want a kind string, got %s", i, e.Type())
			}
			kinds = append(kinds, s)
		}
		return kinds, nil
	}
	return nil, fmt.Errorf("watch_owned must be a list of kind strings, got %s", v.Type())
}

var leaseNameInvalid = regexp.MustCompile(`[^a-z0-9.-]+`)

// defaultLeaderID is `<kind>-controller` with kind as the script wrote it,
// lower-cased and made a valid Lease name ("apps/deployments" →
// "apps-deployments-controller").
func defaultLeaderID(kind string) string {
	k := leaseNameInvalid.ReplaceAllString(strings.ToLower(strings.TrimSpace(kind)), "-")
	return strings.Trim(k, "-.") + "-controller"
}
