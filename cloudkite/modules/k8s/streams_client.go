package k8s

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	streamhttp "k8s.io/streaming/pkg/httpstream"
)

// The pod streams of spec §7 (log, exec, portforward subresources) go
// through a streamer: the default one speaks to the API server with the
// client's REST config (no typed clientset: a bare REST client for logs,
// client-go's remotecommand for exec — WebSocket first, SPDY fallback —
// and tools/portforward for port forwarding — SPDY over WebSocket first,
// plain SPDY fallback). Unit tests substitute an in-memory streamer
// through newStreamer.

// streamer opens a client's pod streams.
type streamer interface {
	// logs opens the log stream of a pod's container; the caller closes it.
	logs(ctx context.Context, ns, pod string, o logOptions) (io.ReadCloser, error)
	// exec runs argv in the pod's container, copying stdin (nil = none)
	// to it and its output to stdout and stderr, until it ends or ctx
	// does. A non-zero exit status is an error carrying the code
	// (client-go's util/exec.ExitError).
	exec(ctx context.Context, ns, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error
	// portForward starts forwarding localhost:local to the pod's port
	// remote and returns once the local listeners are ready (or failed).
	// ctx bounds only the wait for readiness.
	portForward(ctx context.Context, ns, pod string, local, remote int) (forwarding, error)
}

// logOptions are the query parameters of a pod log request.
type logOptions struct {
	container    string
	follow       bool
	previous     bool
	tailLines    int64 // > 0: last N lines
	sinceSeconds int64 // > 0: only newer lines
}

// forwarding is a running port forward.
type forwarding interface {
	localPort() int
	// stop closes the tunnel and waits (briefly) for it to end; it may be
	// called any number of times.
	stop()
	// done is closed when the forwarder has ended (stopped or lost).
	done() <-chan struct{}
}

// errNoCluster is the failure of a stream op on a client without a REST
// config (clients built from fakes).
var errNoCluster = errors.New("requires a cluster connection (this client has no REST config)")

// newStreamer gives the streamer of c (a seam for tests).
var newStreamer = func(c *Client) (streamer, error) {
	if c.rest == nil {
		return nil, errNoCluster
	}
	return restStreamer{cfg: c.rest}, nil
}

// restStreamer is the streamer over a REST config.
type restStreamer struct {
	cfg *rest.Config
}

// statusCodecs decode the metav1.Status bodies of failed requests (the
// only typed objects the core REST client below ever decodes).
var statusCodecs = func() serializer.CodecFactory {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return serializer.NewCodecFactory(s)
}()

// coreClient is a REST client for the core v1 API over cfg. (Building
// one per call is cheap: client-go caches the HTTP transport per config.)
func coreClient(cfg *rest.Config) (rest.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.APIPath = "/api"
	c.GroupVersion = &schema.GroupVersion{Version: "v1"}
	c.NegotiatedSerializer = statusCodecs.WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	return rest.RESTClientFor(c)
}

func (s restStreamer) logs(ctx context.Context, ns, pod string, o logOptions) (io.ReadCloser, error) {
	rc, err := coreClient(s.cfg)
	if err != nil {
		return nil, err
	}
	req := rc.Get().Namespace(ns).Resource("pods").Name(pod).SubResource("log")
	if o.container != "" {
		req = req.Param("container", o.container)
	}
	if o.follow {
		req = req.Param("follow", "true")
	}
	if o.previous {
		req = req.Param("previous", "true")
	}
	if o.tailLines > 0 {
		req = req.Param("tailLines", strconv.FormatInt(o.tailLines, 10))
	}
	if o.sinceSeconds > 0 {
		req = req.Param("sinceSeconds", strconv.FormatInt(o.sinceSeconds, 10))
	}
	return req.Stream(ctx)
}

func (s restStreamer) exec(ctx context.Context, ns, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	rc, err := coreClient(s.cfg)
	if err != nil {
		return err
	}
	req := rc.Post().Namespace(ns).Resource("pods").Name(pod).SubResource("exec")
	if container != "" {
		req = req.Param("container", container)
	}
	for _, a := range argv {
		req = req.Param("command", a)
	}
	if stdin != nil {
		req = req.Param("stdin", "true")
	}
	req = req.Param("stdout", "true").Param("stderr", "true")
	u := req.URL()

	sp, err := remotecommand.NewSPDYExecutor(s.cfg, http.MethodPost, u)
	if err != nil {
		return err
	}
	ws, err := remotecommand.NewWebSocketExecutor(s.cfg, http.MethodGet, u.String())
	if err != nil {
		return err
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, sp, upgradeFailed)
	if err != nil {
		return err
	}
	return ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

// upgradeFailed reports whether err is a refused WebSocket upgrade (or a
// proxy that cannot carry one): the cue to fall back to SPDY, as kubectl
// does. client-go raises either apimachinery's httpstream errors or their
// twins from k8s.io/streaming.
func upgradeFailed(err error) bool {
	return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err) ||
		streamhttp.IsUpgradeFailure(err) || streamhttp.IsHTTPSProxyError(err)
}

// forwardStopWait bounds how long stop waits for the forwarder to end.
const forwardStopWait = 10 * time.Second

// portForwarding is a running client-go port forwarder.
type portForwarding struct {
	local    int
	stopCh   chan struct{}
	stopOnce sync.Once
	ended    chan struct{}
}

func (f *portForwarding) localPort() int        { return f.local }
func (f *portForwarding) done() <-chan struct{} { return f.ended }
func (f *portForwarding) stop() {
	f.stopOnce.Do(func() { close(f.stopCh) })
	select {
	case <-f.ended:
	case <-time.After(forwardStopWait):
	}
}

func (s restStreamer) portForward(ctx context.Context, ns, pod string, local, remote int) (forwarding, error) {
	rc, err := coreClient(s.cfg)
	if err != nil {
		return nil, err
	}
	u := rc.Post().Namespace(ns).Resource("pods").Name(pod).SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(s.cfg)
	if err != nil {
		return nil, err
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	tunnel, err := portforward.NewSPDYOverWebsocketDialer(u, s.cfg)
	if err != nil {
		return nil, err
	}
	dialer = portforward.NewFallbackDialer(tunnel, dialer, upgradeFailed)

	f := &portForwarding{stopCh: make(chan struct{}), ended: make(chan struct{})}
	ready := make(chan struct{})
	errOut := &lockedBuffer{}
	pf, err := portforward.New(dialer, []string{fmt.Sprintf("%d:%d", local, remote)}, f.stopCh, ready, io.Discard, errOut)
	if err != nil {
		return nil, err
	}
	result := make(chan error, 1)
	go func() {
		defer close(f.ended)
		result <- pf.ForwardPorts()
	}()
	select {
	case <-ready:
	case err := <-result:
		if err == nil {
			err = errors.New("port forwarding ended before it was ready")
		}
		if msg := strings.TrimSpace(errOut.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return nil, err
	case <-ctx.Done():
		f.stop()
		return nil, ctx.Err()
	}
	ports, err := pf.GetPorts()
	if err != nil || len(ports) != 1 {
		f.stop()
		return nil, fmt.Errorf("port forwarding: no local port bound (%v)", err)
	}
	f.local = int(ports[0].Local)
	return f, nil
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
