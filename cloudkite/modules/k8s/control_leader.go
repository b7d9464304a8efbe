package k8s

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Leader election for k8s.control (spec §13): a coordination.k8s.io/v1
// Lease through client-go's leaderelection. Every replica watches; only
// the leader runs workers; losing the lease stops the controller.

// leaderConfig is a controller's election: the Lease, who we are and
// the elector (built before the controller starts, so bad settings fail
// the call).
type leaderConfig struct {
	id, namespace, identity string
	elector                 *leaderelection.LeaderElector
	ctx                     context.Context // the election's; cancelled to end it
	cancel                  context.CancelFunc
}

// controlLeases builds the Lease client for c: the typed coordination/v1
// client over c's REST config (a variable: tests substitute a fake).
var controlLeases = func(c *Client) (coordinationv1.LeasesGetter, error) {
	if c.rest == nil {
		return nil, errors.New("leader_election needs a client built from a kubeconfig or the in-cluster config (this client has no REST config)")
	}
	return coordinationv1.NewForConfig(rest.AddUserAgent(rest.CopyConfig(c.rest), "leader-election"))
}

// controlIdentity is this replica's identity: the hostname (else
// `controller-<pid>`) plus a random suffix, so controllers in one
// process are distinct candidates too.
func controlIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = fmt.Sprintf("controller-%d", os.Getpid())
	}
	return fmt.Sprintf("%s_%08x", host, rand.Uint32())
}

// newLeaderConfig prepares ct's election: Lease leader_election_id
// (default `<kind>-controller`) in leader_election_namespace, else the
// controller's namespace, else the client's default namespace.
func newLeaderConfig(ct *controller) (*leaderConfig, error) {
	leases, err := controlLeases(ct.c)
	if err != nil {
		return nil, err
	}
	lc := &leaderConfig{id: ct.o.leaderID, namespace: ct.o.leaderNS, identity: controlIdentity()}
	if lc.id == "" {
		lc.id = defaultLeaderID(ct.o.kind)
	}
	if lc.namespace == "" {
		lc.namespace = ct.ns
	}
	if lc.namespace == "" {
		lc.namespace = ct.c.ns
	}
	ctx, cancel := context.WithCancel(context.Background())
	// client-go logs through the context's logger: keep only its errors,
	// as notes.
	lc.ctx = logr.NewContext(ctx, logr.New(electionLog{what: lc.namespace + "/" + lc.id}))
	lc.cancel = cancel
	lc.elector, err = leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: lc.id, Namespace: lc.namespace},
			Client:     leases,
			LockConfig: resourcelock.ResourceLockConfig{Identity: lc.identity},
		},
		LeaseDuration:   controlLeaseDuration,
		RenewDeadline:   controlRenewDeadline,
		RetryPeriod:     controlRetryPeriod,
		ReleaseOnCancel: true,
		Name:            lc.id,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { ct.startWorkers() },
			OnStoppedLeading: func() {
				if lc.ctx.Err() == nil {
					controlNote("lost the lease %s/%s; stopping", lc.namespace, lc.id)
					ct.stop.request()
				}
			},
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("leader election: %v", err)
	}
	return lc, nil
}

// elect runs the election in the background: leading starts the workers,
// losing the lease stops the controller. The returned function ends the
// election (releasing the lease when held) and waits for it, at most
// controlReleaseTimeout.
func (ct *controller) elect() (stop func()) {
	lc := ct.leader
	done := make(chan struct{})
	go func() {
		defer close(done)
		lc.elector.Run(lc.ctx)
	}()
	return func() {
		lc.cancel()
		select {
		case <-done:
		case <-time.After(controlReleaseTimeout):
		}
	}
}

// electionLog is a logr sink keeping client-go's leader-election errors
// (as notes) and dropping its info messages.
type electionLog struct{ what string }

func (electionLog) Init(logr.RuntimeInfo)            {}
func (electionLog) Enabled(int) bool                 { return false }
func (electionLog) Info(int, string, ...any)         {}
func (l electionLog) WithValues(...any) logr.LogSink { return l }
func (l electionLog) WithName(string) logr.LogSink   { return l }
func (l electionLog) Error(err error, msg string, _ ...any) {
	controlNote("leader election %s: %s: %v", l.what, msg, err)
}
